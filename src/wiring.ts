import type { EventStoreDBClient } from '@eventstore/db-client';
import { createActiveReadModelReader, type ActiveReadModelReader } from '#application/activeReadModels';
import type { CommandDeps } from '#application/handleUserCommand';
import type { UserKeys } from '#application/userKeys';
import type { UserSnapshotSettings } from '#application/userSnapshots';
import type { UserStreamDeps } from '#application/userStream';
import type { QueryDeps } from '#application/userQueries';
import { createReservationStreamNaming } from '#application/emailReservations';
import { createJoseTokenVerifier } from '#adapters/jose/joseTokenVerifier';
import { loadConfig, requireHttpSecurity, storeNotInUse, type Config } from '#config';
import { createConsistencyTokens } from '#http/consistencyToken';
import type { HttpStackDeps } from '#http/httpHandler';
import { createRequestFingerprinter } from '#http/requestFingerprint';
import { createLambdaTelemetry } from '#adapters/powertools/powertoolsTelemetry';
import type { Logger } from '#logging/jsonLogger';
import { resolveSecretEnv } from '#secretEnv';
import type { EventStore } from '#ports/eventStore';
import type { ReadModelRegistry } from '#ports/readModels';
import type { SnapshotStore } from '#ports/snapshotStore';

/**
 * The composition root of the Lambdas: configuration → adapters, once per container. Config
 * and logger are read at module load, secrets resolved from Secrets Manager first (a bad or
 * missing variable fails the cold start, naming it); the
 * adapters are built on first use, so a container connects only when a request needs it, and
 * warm invocations reuse the same clients.
 */
export const config: Config = loadConfig(await resolveSecretEnv(process.env));
const telemetry = createLambdaTelemetry({ component: 'http', level: config.logLevel, stage: config.stage });
export const logger: Logger = telemetry.logger;
const security = requireHttpSecurity(config);

export const httpStackDeps: HttpStackDeps = {
  logger,
  telemetry: telemetry.http,
  maxBodyBytes: config.http.maxBodyBytes,
  tokenVerifier: createJoseTokenVerifier({
    issuer: security.auth.issuer,
    audience: security.auth.audience,
    ...(security.auth.jwksUrl === undefined ? {} : { jwksUrl: security.auth.jwksUrl }),
    clockSkewSeconds: security.auth.clockSkewSeconds,
    adminScope: security.auth.adminScope,
    verifierScope: security.auth.verifierScope,
    onRejected: (reason) => logger.info('bearer token refused', { reason }),
  }),
  consistencyTokens: createConsistencyTokens(security.secrets.consistencyTokenKeys),
  // Derived, so the fingerprint key is as stable as the reservation key and never equal to it.
  fingerprintRequest: createRequestFingerprinter(`${security.secrets.emailReservationKey}/request-fingerprint`),
};

// Adapters are imported on demand: the SQLite default never loads the gRPC or Redis clients.
// One EventStoreDB client per container, shared by the event store and the key store.
const buildEsdbClient = async (settings: Config['eventStore']): Promise<EventStoreDBClient | null> => {
  if (settings.kind !== 'eventstoredb') return null;
  const { createEventStoreDBClient } = await import('#adapters/eventstoredb/index');
  return createEventStoreDBClient(settings.connectionString, settings);
};

const buildEventStore = async (settings: Config['eventStore']): Promise<EventStore> => {
  if (settings.kind === 'unused') throw storeNotInUse('eventstore');
  if (settings.kind === 'eventstoredb') {
    const client = await getEsdbClient();
    if (client === null) throw new Error('unreachable: an EventStoreDB event store without its client');
    const { createEventStoreDBEventStore } = await import('#adapters/eventstoredb/index');
    return createEventStoreDBEventStore(client, {
      onRetry: (operation, error, attempt, delayMs) => logger.warn('eventstoredb call retried', { operation, error, attempt, delayMs }),
    });
  }
  const { createSqliteEventStore } = await import('#adapters/sqlite/sqliteEventStore');
  return createSqliteEventStore({ path: settings.path });
};

const buildSnapshotStore = async (settings: Config['snapshots']): Promise<SnapshotStore> => {
  // Snapshots sit beside the event log: a process that does not use it has none (never SQLite).
  if (settings.store.kind === 'unused') throw storeNotInUse('eventstore');
  if (settings.store.kind === 'eventstoredb') {
    const client = await getEsdbClient();
    if (client === null) throw new Error('unreachable: EventStoreDB snapshots without the EventStoreDB client');
    const { createEventStoreDBSnapshotStore } = await import('#adapters/eventstoredb/eventStoreDBSnapshotStore');
    return createEventStoreDBSnapshotStore(client);
  }
  const { createSqliteSnapshotStore } = await import('#adapters/sqlite/sqliteSnapshotStore');
  return createSqliteSnapshotStore({ path: settings.store.path });
};

const buildReadModelRegistry = async (settings: Config['readModels']): Promise<ReadModelRegistry> => {
  if (settings.kind === 'unused') throw storeNotInUse('readmodels');
  if (settings.kind === 'redis') {
    const { connectRedis } = await import('#adapters/redis/connectRedis');
    const { createRedisReadModelRegistry } = await import('#adapters/redis/redisReadModelRegistry');
    // Short socket timeout with a faster ping: a connection that died while the container was
    // frozen is noticed within ~2 s of thaw, and the query's bounded retry runs on a fresh one.
    const client = await connectRedis(settings.url, {
      socketTimeoutMs: 2_000,
      pingIntervalMs: 1_000,
      onError: (error) => logger.warn('redis connection error', { error }),
    });
    return createRedisReadModelRegistry({ client, namespace: config.readModelRegistryNamespace });
  }
  const { createSqliteReadModelRegistry } = await import('#adapters/sqlite/sqliteReadModelRegistry');
  return createSqliteReadModelRegistry({ path: settings.path });
};

// exactOptionalPropertyTypes: an absent key, never `snapshots: undefined`.
const withSnapshots = <T extends object>(deps: T, snapshots: UserSnapshotSettings | undefined): T & { readonly snapshots?: UserSnapshotSettings } =>
  snapshots === undefined ? deps : { ...deps, snapshots };

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
const getEsdbClient = /* @__PURE__ */ once(() => buildEsdbClient(config.eventStore));
export const getEventStore = /* @__PURE__ */ once(() => buildEventStore(config.eventStore));
export const getUserKeys = /* @__PURE__ */ once(async (): Promise<UserKeys> => {
  const { openDataKeyStore, userKeysFor } = await import('./dataKeysWiring.ts');
  return userKeysFor(await openDataKeyStore(config.dataKeys, await getEsdbClient()), config.dataKeys);
});
/** Snapshots of long streams, or undefined when SNAPSHOT_EVERY=0; a failure to read or write one is logged, never fatal. */
export const getSnapshots = /* @__PURE__ */ once(async (): Promise<UserSnapshotSettings | undefined> =>
  config.snapshots.every <= 0
    ? undefined
    : {
        store: await buildSnapshotStore(config.snapshots),
        every: config.snapshots.every,
        onFailure: (error, context) => logger.warn('snapshot skipped', { error, ...context }),
      },
);
/** What reading a user's stream takes (history, export, time travel): the event store, the data keys and the snapshots. */
export const getUserStreamDeps = /* @__PURE__ */ once(
  async (): Promise<UserStreamDeps> => withSnapshots({ eventStore: await getEventStore(), keys: await getUserKeys() }, await getSnapshots()),
);
export const getReadModelRegistry = /* @__PURE__ */ once(() => buildReadModelRegistry(config.readModels));
/** The active read-model version, resolved through the registry (READ_MODEL_VERSION until one is activated). */
export const getReadModels = /* @__PURE__ */ once(
  async (): Promise<ActiveReadModelReader> => createActiveReadModelReader(await getReadModelRegistry(), { fallbackVersion: config.readModelVersion }),
);

export const getCommandDeps = /* @__PURE__ */ once(
  async (): Promise<CommandDeps> =>
    withSnapshots(
      {
        eventStore: await getEventStore(),
        keys: await getUserKeys(),
        reservationStreamOf: createReservationStreamNaming(security.secrets.emailReservationKey),
        maxAttempts: config.http.commandMaxAttempts,
        onReservationCleanupFailed: (error, context) => logger.error('email reservation clean-up failed: the address stays held', { error, ...context }),
      },
      await getSnapshots(),
    ),
);

export const getQueryDeps = /* @__PURE__ */ once(async (): Promise<QueryDeps> => ({ readModels: await getReadModels(), consistencyWaitMs: config.http.consistencyWaitMs }));
