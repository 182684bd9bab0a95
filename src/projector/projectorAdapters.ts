import { closeEventStoreDBClient, createEventStoreDBClient, type EventStoreDBClient } from '#adapters/eventstoredb/eventStoreDBClient';
import { createEventStoreDBEventSource } from '#adapters/eventstoredb/eventStoreDBEventSource';
import { createEventStoreDBEventStore } from '#adapters/eventstoredb/eventStoreDBEventStore';
import { createEventStoreDBParkedEvents } from '#adapters/eventstoredb/eventStoreDBParkedEvents';
import { connectRedis } from '#adapters/redis/connectRedis';
import { createRedisReadModelRegistry } from '#adapters/redis/redisReadModelRegistry';
import { createSqliteEventSource } from '#adapters/sqlite/sqliteEventSource';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { createSqliteParkedEvents } from '#adapters/sqlite/sqliteParkedEvents';
import { createSqliteReadModelRegistry } from '#adapters/sqlite/sqliteReadModelRegistry';
import { storeNotInUse, type Config } from '#config';
import type { EventSource, ParkedEvents } from '#ports/eventSource';
import type { EventStore } from '#ports/eventStore';
import type { DataKeyStore } from '#ports/dataKeys';
import type { ReadModelRegistry, ReadModels } from '#ports/readModels';
import type { Logger } from '#logging/jsonLogger';
import type { UserKeys } from '#application/userKeys';
import { openDataKeyStore, userKeysFor } from '../dataKeysWiring.ts';
import { subscriptionGroupFor } from './readModelVersionKeeper.ts';

export interface ProjectorAdapters {
  readonly eventStore: EventStore;
  /** The users' data keys, to open the personal fields of the events it projects. */
  readonly keys: UserKeys;
  readonly source: EventSource;
  readonly parked: ParkedEvents;
  /** Every read-model version and which one is active. */
  readonly registry: ReadModelRegistry;
  /** This process's version (READ_MODEL_VERSION), the one its subscription writes. */
  readonly readModels: ReadModels;
  /** Closes every client opened here, each at most once. */
  close(): Promise<void>;
}

export interface LogSide {
  readonly eventStore: EventStore;
  readonly source: EventSource;
  readonly parked: ParkedEvents;
  /** The EventStoreDB client, when the log is there (the key store shares it). */
  readonly esdbClient: EventStoreDBClient | null;
  close(): Promise<void>;
}

export const USER_STREAMS = ['user-'] as const;

/** The event log and the subscription over it, as configured: EventStoreDB, or SQLite under DATA_DIR. */
export const openLogSide = (config: Config): LogSide => {
  const { eventStore: store, projector } = config;
  if (store.kind === 'unused') throw storeNotInUse('eventstore');
  if (store.kind === 'eventstoredb') {
    const client = createEventStoreDBClient(store.connectionString, store);
    // One group per read-model version: each version's subscription starts at its own checkpoint.
    const groupName = subscriptionGroupFor(projector.subscription.groupName, config.readModelVersion);
    return {
      eventStore: createEventStoreDBEventStore(client),
      source: createEventStoreDBEventSource(client, { ...projector.subscription, groupName, streamPrefixes: USER_STREAMS }),
      parked: createEventStoreDBParkedEvents(client, { groupName }),
      esdbClient: client,
      close: () => closeEventStoreDBClient(client),
    };
  }
  const eventStore = createSqliteEventStore({ path: store.path });
  const source = createSqliteEventSource({
    path: store.path,
    pollIntervalMs: projector.pollIntervalMs,
    maxRetryCount: projector.subscription.maxRetryCount,
    streamPrefixes: USER_STREAMS,
  });
  const parked = createSqliteParkedEvents({ path: store.path });
  return {
    eventStore,
    source,
    parked,
    esdbClient: null,
    close: async () => {
      await source.close();
      await parked.close();
      await eventStore.close();
    },
  };
};

/** The read-model registry as configured: Redis (versions under `rm:v<N>:`), or SQLite under DATA_DIR (tables per version). */
export const openReadModelRegistry = async (config: Config, logger: Logger): Promise<ReadModelRegistry> => {
  if (config.readModels.kind === 'unused') throw storeNotInUse('readmodels');
  if (config.readModels.kind === 'sqlite') return createSqliteReadModelRegistry({ path: config.readModels.path });
  const client = await connectRedis(config.readModels.url, { onError: (error) => logger.warn('redis connection error', { error: error.message }) });
  return createRedisReadModelRegistry({
    client,
    ownsClient: true,
    namespace: config.readModelRegistryNamespace,
    waitReplicas: config.readModels.waitReplicas,
    waitTimeoutMs: config.readModels.waitTimeoutMs,
  });
};

export const openProjectorAdapters = async (config: Config, logger: Logger): Promise<ProjectorAdapters> => {
  const log = openLogSide(config);
  let registry: ReadModelRegistry;
  let keyStore: DataKeyStore;
  try {
    keyStore = await openDataKeyStore(config.dataKeys, log.esdbClient);
  } catch (error) {
    await log.close();
    throw error;
  }
  try {
    registry = await openReadModelRegistry(config, logger);
  } catch (error) {
    await keyStore.close();
    await log.close();
    throw error;
  }
  let closed: Promise<void> | null = null;
  return {
    ...log,
    registry,
    readModels: registry.readModels(config.readModelVersion),
    keys: userKeysFor(keyStore, config.dataKeys),
    close: () =>
      (closed ??= (async () => {
        await registry.close().catch((error: unknown) => logger.warn('closing the read models failed', { error }));
        await keyStore.close().catch((error: unknown) => logger.warn('closing the key store failed', { error }));
        await log.close().catch((error: unknown) => logger.warn('closing the event log failed', { error }));
      })()),
  };
};
