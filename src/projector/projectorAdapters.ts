import { closeEventStoreDBClient, createEventStoreDBClient } from '#adapters/eventstoredb/eventStoreDBClient';
import { createEventStoreDBEventSource } from '#adapters/eventstoredb/eventStoreDBEventSource';
import { createEventStoreDBEventStore } from '#adapters/eventstoredb/eventStoreDBEventStore';
import { createEventStoreDBParkedEvents } from '#adapters/eventstoredb/eventStoreDBParkedEvents';
import { connectRedis } from '#adapters/redis/connectRedis';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { createSqliteEventSource } from '#adapters/sqlite/sqliteEventSource';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { createSqliteParkedEvents } from '#adapters/sqlite/sqliteParkedEvents';
import { createSqliteReadModels } from '#adapters/sqlite/sqliteReadModels';
import type { Config } from '#config';
import type { EventSource, ParkedEvents } from '#ports/eventSource';
import type { EventStore } from '#ports/eventStore';
import type { ReadModels } from '#ports/readModels';
import type { Logger } from '#logging/jsonLogger';

export interface ProjectorAdapters {
  readonly eventStore: EventStore;
  readonly source: EventSource;
  readonly parked: ParkedEvents;
  readonly readModels: ReadModels;
  /** Closes every client opened here, each at most once. */
  close(): Promise<void>;
}

export interface LogSide {
  readonly eventStore: EventStore;
  readonly source: EventSource;
  readonly parked: ParkedEvents;
  close(): Promise<void>;
}

export const USER_STREAMS = ['user-'] as const;

/** The event log and the subscription over it, as configured: EventStoreDB, or SQLite under DATA_DIR. */
export const openLogSide = (config: Config): LogSide => {
  const { eventStore: store, projector } = config;
  if (store.kind === 'eventstoredb') {
    const client = createEventStoreDBClient(store.connectionString, store);
    return {
      eventStore: createEventStoreDBEventStore(client),
      source: createEventStoreDBEventSource(client, { ...projector.subscription, streamPrefixes: USER_STREAMS }),
      parked: createEventStoreDBParkedEvents(client, { groupName: projector.subscription.groupName }),
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
    close: async () => {
      await source.close();
      await parked.close();
      await eventStore.close();
    },
  };
};

/** The read models as configured: Redis under the `rm:v<N>:` prefix, or SQLite under DATA_DIR. */
export const openReadModels = async (config: Config, logger: Logger): Promise<ReadModels> => {
  if (config.readModels.kind === 'sqlite') return createSqliteReadModels({ path: config.readModels.path });
  const client = await connectRedis(config.readModels.url, { onError: (error) => logger.warn('redis connection error', { error: error.message }) });
  return createRedisReadModels({
    client,
    version: config.readModelVersion,
    ownsClient: true,
    waitReplicas: config.readModels.waitReplicas,
    waitTimeoutMs: config.readModels.waitTimeoutMs,
  });
};


export const openProjectorAdapters = async (config: Config, logger: Logger): Promise<ProjectorAdapters> => {
  const log = openLogSide(config);
  let readModels: ReadModels;
  try {
    readModels = await openReadModels(config, logger);
  } catch (error) {
    await log.close();
    throw error;
  }
  let closed: Promise<void> | null = null;
  return {
    ...log,
    readModels,
    close: () =>
      (closed ??= (async () => {
        await readModels.close().catch((error: unknown) => logger.warn('closing the read models failed', { error }));
        await log.close().catch((error: unknown) => logger.warn('closing the event log failed', { error }));
      })()),
  };
};
