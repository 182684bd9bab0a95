import type { CommandDeps } from '#application/handleUserCommand';
import type { QueryDeps } from '#application/userQueries';
import { loadConfig, type Config } from '#config';
import { createJsonLogger, type Logger } from '#logging/jsonLogger';
import { resolveSecretEnv } from '#secretEnv';
import type { EventStore } from '#ports/eventStore';
import type { ReadModels } from '#ports/readModels';

/**
 * The composition root of the Lambdas: configuration → adapters, once per container. Config
 * and logger are read at module load, secrets resolved from Secrets Manager first (a bad or
 * missing variable fails the cold start, naming it); the
 * adapters are built on first use, so a container connects only when a request needs it, and
 * warm invocations reuse the same clients.
 */
export const config: Config = loadConfig(await resolveSecretEnv(process.env));
export const logger: Logger = createJsonLogger('http', config.logLevel);
export const httpStackDeps = { logger, maxBodyBytes: config.http.maxBodyBytes } as const;

// Adapters are imported on demand: the SQLite default never loads the gRPC or Redis clients.
const buildEventStore = async (settings: Config['eventStore']): Promise<EventStore> => {
  if (settings.kind === 'eventstoredb') {
    const { createEventStoreDBClient, createEventStoreDBEventStore } = await import('#adapters/eventstoredb/index');
    return createEventStoreDBEventStore(createEventStoreDBClient(settings.connectionString, settings), {
      onRetry: (operation, error, attempt, delayMs) => logger.warn('eventstoredb call retried', { operation, error, attempt, delayMs }),
    });
  }
  const { createSqliteEventStore } = await import('#adapters/sqlite/sqliteEventStore');
  return createSqliteEventStore({ path: settings.path });
};

const buildReadModels = async (settings: Config['readModels'], version: number): Promise<ReadModels> => {
  if (settings.kind === 'redis') {
    const { connectRedis } = await import('#adapters/redis/connectRedis');
    const { createRedisReadModels } = await import('#adapters/redis/redisReadModels');
    // Short socket timeout with a faster ping: a connection that died while the container was
    // frozen is noticed within ~2 s of thaw, and the query's bounded retry runs on a fresh one.
    const client = await connectRedis(settings.url, {
      socketTimeoutMs: 2_000,
      pingIntervalMs: 1_000,
      onError: (error) => logger.warn('redis connection error', { error }),
    });
    return createRedisReadModels({ client, version });
  }
  const { createSqliteReadModels } = await import('#adapters/sqlite/sqliteReadModels');
  return createSqliteReadModels({ path: settings.path });
};

/** One build per container, started by the first caller; a failed build is not kept, so the next request tries again. */
const once = <T>(build: () => Promise<T>): (() => Promise<T>) => {
  let built: Promise<T> | null = null;
  return () => {
    built ??= build().catch((error: unknown) => {
      built = null;
      throw error;
    });
    return built;
  };
};

// Separate, so a command Lambda never connects to the read models, nor a query Lambda to the event
// store. The /* @__PURE__ */ marks let the bundler drop the getters a handler does not import, and
// with them the clients they load: a query bundle carries no gRPC client, a command bundle no Redis.
export const getEventStore = /* @__PURE__ */ once(() => buildEventStore(config.eventStore));
export const getReadModels = /* @__PURE__ */ once(() => buildReadModels(config.readModels, config.readModelVersion));

export const getCommandDeps = /* @__PURE__ */ once(
  async (): Promise<CommandDeps> => ({
    eventStore: await getEventStore(),
    maxAttempts: config.http.commandMaxAttempts,
    onReservationCleanupFailed: (error, context) => logger.error('email reservation clean-up failed: the address stays held', { error, ...context }),
  }),
);

export const getQueryDeps = /* @__PURE__ */ once(async (): Promise<QueryDeps> => ({ readModels: await getReadModels(), consistencyWaitMs: config.http.consistencyWaitMs }));
