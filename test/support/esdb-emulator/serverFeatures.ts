import type { IServerFeaturesServer } from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import type { EmulatorContext } from './emulatorContext.ts';
import { serverFeaturesPb } from './protos.ts';

/** The version the emulator claims; the client only compares methods and features, never this. */
export const EMULATED_SERVER_VERSION = '24.10.0';

/*
 * The methods and features as the real server lists them (KurrentDB ServerFeatures.cs). The
 * client matches lower-cased `/service/method` paths, and the `batchappend` entry is what makes
 * it append through BatchAppend.
 */
const SUPPORTED: readonly (readonly [service: string, method: string, features: readonly string[]])[] = [
  ['event_store.client.streams.streams', 'read', ['position', 'events']],
  ['event_store.client.streams.streams', 'append', []],
  ['event_store.client.streams.streams', 'delete', []],
  ['event_store.client.streams.streams', 'tombstone', []],
  ['event_store.client.streams.streams', 'batchappend', ['deadline_duration']],
  ...['create', 'update', 'delete', 'read', 'getinfo', 'replayparked', 'list', 'restartsubsystem'].map(
    (method) => ['event_store.client.persistent_subscriptions.persistentsubscriptions', method, ['stream', 'all']] as const,
  ),
];

export const serverFeaturesHandlers = (context: EmulatorContext): IServerFeaturesServer => ({
  getSupportedMethods: (_call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('getSupportedMethods');
      if (fault !== null) return callback(fault);
      const answer = new serverFeaturesPb.SupportedMethods().setEventStoreServerVersion(EMULATED_SERVER_VERSION);
      for (const [service, method, features] of SUPPORTED) {
        answer.addMethods(new serverFeaturesPb.SupportedMethod().setServiceName(service).setMethodName(method).setFeaturesList([...features]));
      }
      callback(null, answer);
    })();
  },
});
