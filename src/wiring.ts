import type { CommandDeps } from '#application/handleUserCommand';
import type { QueryDeps } from '#application/userQueries';
import { loadConfig, type Config } from '#config';
import { createHttpLogger, type HttpLogger } from '#http/httpLogger';
import type { EventStore } from '#ports/eventStore';
import type { ReadModels } from '#ports/readModels';

/**
 * The composition root of the Lambdas: configuration → adapters, once per container. Config
 * and logger are read at module load (a bad variable fails the cold start, naming it); the
 * adapters are built on first use, so a container connects only when a request needs it, and
 * warm invocations reuse the same clients.
 */
export const config: Config = loadConfig();
export const logger: HttpLogger = createHttpLogger(config.logLevel);
export const httpStackDeps = { logger, maxBodyBytes: config.http.maxBodyBytes } as const;

export interface Services {
  readonly eventStore: EventStore;
  readonly readModels: ReadModels;
  readonly commands: CommandDeps;
  readonly queries: QueryDeps;
}

// Adapters are imported on demand: the SQLite default never loads the gRPC or Redis clients.
const buildEventStore = async (settings: Config['eventStore']): Promise<EventStore> => {
  if (settings.kind === 'eventstoredb') {
    const { createEventStoreDBClient, createEventStoreDBEventStore } = await import('#adapters/eventstoredb/index');
    return createEventStoreDBEventStore(createEventStoreDBClient(settings.connectionString));
  }
  const { createSqliteEventStore } = await import('#adapters/sqlite/sqliteEventStore');
  return createSqliteEventStore({ path: settings.path });
};

const buildReadModels = async (settings: Config['readModels'], version: number): Promise<ReadModels> => {
  if (settings.kind === 'redis') {
    const { connectRedis } = await import('#adapters/redis/connectRedis');
    const { createRedisReadModels } = await import('#adapters/redis/redisReadModels');
    const client = await connectRedis(settings.url, { onError: (error) => logger.warn('redis connection error', { error }) });
    return createRedisReadModels({ client, version });
  }
  const { createSqliteReadModels } = await import('#adapters/sqlite/sqliteReadModels');
  return createSqliteReadModels({ path: settings.path });
};

const buildServices = async (settings: Config): Promise<Services> => {
  const [eventStore, readModels] = await Promise.all([buildEventStore(settings.eventStore), buildReadModels(settings.readModels, settings.readModelVersion)]);
  return {
    eventStore,
    readModels,
    commands: {
      eventStore,
      maxAttempts: settings.http.commandMaxAttempts,
      onReservationCleanupFailed: (error, context) => logger.error('email reservation clean-up failed: the address stays held', { error, ...context }),
    },
    queries: { readModels, consistencyWaitMs: settings.http.consistencyWaitMs },
  };
};

let services: Promise<Services> | null = null;

/** The container's adapters, built on the first call. A failed build is not cached: the next request tries again. */
export const getServices = (): Promise<Services> => {
  services ??= buildServices(config).catch((error: unknown) => {
    services = null;
    throw error;
  });
  return services;
};
