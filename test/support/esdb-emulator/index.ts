import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ConnectionProxy } from './connectionProxy.ts';
import type { EmulatorContext } from './emulatorContext.ts';
import { EventLog } from './eventLog.ts';
import { createFaults, FaultPlan, type Faults } from './faults.ts';
import { PersistentRegistry, persistentService } from './persistentService.ts';
import { persistentGrpc, serverFeaturesGrpc, streamsGrpc } from './protos.ts';
import { readHandler } from './readHandler.ts';
import { serverFeaturesHandlers } from './serverFeatures.ts';
import { DEFAULT_STATS_PERIOD_MS, seedFreshNode, startStatsCollection } from './systemRecords.ts';
import { writeHandlers } from './writeHandlers.ts';

export type { Faults, FaultableMethod } from './faults.ts';
export type { DropOptions } from './connectionProxy.ts';

/** A running EventStoreDB emulator: test infrastructure, never a way to run the service. */
export interface EsdbEmulator {
  /** `esdb://127.0.0.1:PORT?tls=false`, pointing at the emulator's connection proxy. */
  readonly connectionString: string;
  readonly faults: Faults;
  /** Runs a scavenge: the events of tombstoned streams are removed for good. Answers how many. */
  scavenge(): number;
  /** Whether any record in the log still holds these bytes (checks what a scavenge removed). */
  holdsBytes(needle: Uint8Array): boolean;
  /** Ends every connection and the server; the state lives until then, through any drop. */
  stop(): Promise<void>;
}

export interface EsdbEmulatorOptions {
  /** The port clients connect to (the proxy's); a free one when omitted. */
  readonly port?: number;
  /** How often `$statsCollected` is written, as the server's StatsPeriodSec (30 s); 0: never. */
  readonly statsPeriodMs?: number;
}

const MAX_APPEND_SIZE = 1024 * 1024;

export const startEsdbEmulator = async (options: EsdbEmulatorOptions = {}): Promise<EsdbEmulator> => {
  const context: EmulatorContext = { log: new EventLog(), faults: new FaultPlan(), maxAppendSize: MAX_APPEND_SIZE };
  const server = new Server({
    // Clients may ping as often as they like (tests shorten keepalive to spot dead connections).
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 100,
  });
  server.addService(streamsGrpc.StreamsService, { ...writeHandlers(context), read: readHandler(context) });
  server.addService(serverFeaturesGrpc.ServerFeaturesService, serverFeaturesHandlers(context));
  const registry = new PersistentRegistry();
  server.addService(persistentGrpc.PersistentSubscriptionsService, persistentService(context, registry));
  const grpcPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port)));
  });
  const proxy = await ConnectionProxy.start(grpcPort, options.port ?? 0);
  // A fresh node's `$all` begins with its own records, and it keeps writing more.
  const nodeEndpoint = `127.0.0.1:${proxy.port}`;
  seedFreshNode(context.log, nodeEndpoint);
  const stopStats = startStatsCollection(context.log, nodeEndpoint, options.statsPeriodMs ?? DEFAULT_STATS_PERIOD_MS);

  return {
    connectionString: `esdb://127.0.0.1:${proxy.port}?tls=false`,
    faults: createFaults(context.faults, proxy),
    scavenge: () => context.log.scavenge(),
    holdsBytes: (needle) => context.log.holdsBytes(needle),
    stop: async () => {
      stopStats();
      registry.closeAll();
      await proxy.close();
      server.forceShutdown();
    },
  };
};
