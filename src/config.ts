import path from 'node:path';
import type { PersistentGroupSettings } from '#adapters/eventstoredb/index';

/**
 * The one place that reads the environment. Everything has a default that works locally;
 * a bad value fails at start with a message naming the variable.
 */
export type EventStoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'eventstoredb';
      readonly connectionString: string;
      /** PEM of the CA that signed the server certificates (EVENTSTORE_CA_CERT); TLS verifies against it. */
      readonly caCertPem?: string;
    };

export type ReadModelsConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'redis';
      readonly url: string;
      /**
       * Replicas that must confirm a batch (`WAIT`) before the projector acknowledges it; 0 = do not
       * wait. A failover can otherwise lose a write that EventStoreDB already counts as applied.
       */
      readonly waitReplicas: number;
      readonly waitTimeoutMs: number;
    };

export interface RetryConfig {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Bound on the total time spent retrying one operation. */
  readonly maxElapsedMs: number;
}

export interface ProjectorConfig {
  readonly batchSize: number;
  readonly batchMaxWaitMs: number;
  /** Backpressure: events taken from the source and not yet acknowledged. */
  readonly maxInFlight: number;
  readonly healthPort: number;
  readonly shutdownTimeoutMs: number;
  readonly retry: RetryConfig;
  /** Persistent-subscription group settings (EventStoreDB). */
  readonly subscription: PersistentGroupSettings;
  /** SQLite source: how often to look for new events when caught up. */
  readonly pollIntervalMs: number;
  /** CloudWatch EMF lines on stdout every this many ms (0: none, the local default). */
  readonly emfIntervalMs: number;
  /** The EMF `Stage` dimension (CHRONICLE_STAGE). */
  readonly stage: string;
}

export interface HttpConfig {
  /** Bound on a query's wait for the read model to reach a consistency token. */
  readonly consistencyWaitMs: number;
  readonly maxBodyBytes: number;
  /** Attempts of a command whose append lost a concurrency race (without If-Match). */
  readonly commandMaxAttempts: number;
}

export interface Config {
  readonly dataDir: string;
  readonly eventStore: EventStoreConfig;
  readonly readModels: ReadModelsConfig;
  /** Read models live under `rm:v<N>:` (Redis) so a rebuild can build the next version beside this one. */
  readonly readModelVersion: number;
  readonly projector: ProjectorConfig;
  readonly http: HttpConfig;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const readString = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

const readInt = (env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
};

const readUrl = (env: Env, name: string, protocols: readonly string[]): string | undefined => {
  const raw = readString(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  return raw;
};

// Not a WHATWG URL: a cluster string lists several hosts (esdb+discover://a:2113,b:2113).
const EVENTSTORE_SCHEME = /^(esdb|kurrentdb|kdb)(\+discover)?:\/\/\S+$/i;

const readEventStoreConnectionString = (env: Env): string | undefined => {
  const raw = readString(env, 'EVENTSTORE_CONNECTION_STRING');
  if (raw !== undefined && !EVENTSTORE_SCHEME.test(raw))
    throw new ConfigError('EVENTSTORE_CONNECTION_STRING', 'must look like esdb://host:2113?tls=false or esdb+discover://host1:2113,host2:2113');
  return raw;
};

/**
 * REDIS_URL, or the parts a deployment holds separately: REDIS_HOST (+ REDIS_PORT, REDIS_TLS) with
 * REDIS_AUTH_TOKEN, the ElastiCache AUTH token resolved from Secrets Manager at start.
 */
const readRedisUrl = (env: Env): string | undefined => {
  const url = readUrl(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const host = readString(env, 'REDIS_HOST');
  if (url !== undefined || host === undefined) return url;
  if (!/^[A-Za-z0-9.-]+$/.test(host)) throw new ConfigError('REDIS_HOST', 'must be a host name or an IPv4 address');
  const port = readInt(env, 'REDIS_PORT', 6379, 1, 65_535);
  const tls = readString(env, 'REDIS_TLS') ?? 'true';
  if (tls !== 'true' && tls !== 'false') throw new ConfigError('REDIS_TLS', 'must be true or false');
  const token = readString(env, 'REDIS_AUTH_TOKEN');
  const auth = token === undefined ? '' : `:${encodeURIComponent(token)}@`;
  return `${tls === 'true' ? 'rediss' : 'redis'}://${auth}${host}:${port}`;
};

/** A deployed stage sets CHRONICLE_REQUIRE_PRODUCTION_STORES=true: it never falls back to SQLite. */
const requireProductionStores = (env: Env): boolean => {
  const raw = readString(env, 'CHRONICLE_REQUIRE_PRODUCTION_STORES') ?? 'false';
  if (raw !== 'true' && raw !== 'false') throw new ConfigError('CHRONICLE_REQUIRE_PRODUCTION_STORES', 'must be true or false');
  return raw === 'true';
};

const missingInProduction = (variable: string, alternatives: string): ConfigError =>
  new ConfigError(variable, `is required: CHRONICLE_REQUIRE_PRODUCTION_STORES=true and a deployed stage never falls back to SQLite (set ${alternatives})`);

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const loadConfig = (env: Env = process.env): Config => {
  const dataDir = path.resolve(readString(env, 'DATA_DIR') ?? '.data');
  const esdb = readEventStoreConnectionString(env);
  const redis = readRedisUrl(env);
  if (requireProductionStores(env)) {
    if (esdb === undefined) throw missingInProduction('EVENTSTORE_CONNECTION_STRING', 'it, or EVENTSTORE_CONNECTION_STRING_SECRET_ARN');
    if (redis === undefined) throw missingInProduction('REDIS_URL', 'it, REDIS_URL_SECRET_ARN, or REDIS_HOST with REDIS_AUTH_TOKEN_SECRET_ARN');
  }
  const caCertPem = readString(env, 'EVENTSTORE_CA_CERT');
  if (caCertPem !== undefined && !caCertPem.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError('EVENTSTORE_CA_CERT', 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
  const logLevel = readString(env, 'LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const bufferSize = readInt(env, 'PROJECTOR_SUBSCRIPTION_BUFFER_SIZE', 2000, 1, 100_000);
  const readBatchSize = readInt(env, 'PROJECTOR_SUBSCRIPTION_READ_BATCH_SIZE', 500, 1, 100_000);
  // EventStoreDB delivers nothing when readBatchSize >= bufferSize (KurrentDB #1313).
  if (readBatchSize >= bufferSize)
    throw new ConfigError('PROJECTOR_SUBSCRIPTION_READ_BATCH_SIZE', `must be below PROJECTOR_SUBSCRIPTION_BUFFER_SIZE (${bufferSize})`);

  return Object.freeze({
    dataDir,
    eventStore: esdb
      ? { kind: 'eventstoredb', connectionString: esdb, ...(caCertPem === undefined ? {} : { caCertPem: `${caCertPem.replace(/\\n/g, '\n')}\n` }) }
      : { kind: 'sqlite', path: path.join(dataDir, 'events.sqlite') },
    readModels: redis
      ? {
          kind: 'redis',
          url: redis,
          waitReplicas: readInt(env, 'REDIS_WAIT_REPLICAS', 0, 0, 5),
          waitTimeoutMs: readInt(env, 'REDIS_WAIT_TIMEOUT_MS', 1_000, 1, 60_000),
        }
      : { kind: 'sqlite', path: path.join(dataDir, 'read-models.sqlite') },
    readModelVersion: readInt(env, 'READ_MODEL_VERSION', 1, 1, 1_000_000),
    projector: {
      batchSize: readInt(env, 'PROJECTOR_BATCH_SIZE', 1000, 1, 100_000),
      batchMaxWaitMs: readInt(env, 'PROJECTOR_BATCH_MAX_WAIT_MS', 50, 0, 60_000),
      maxInFlight: readInt(env, 'PROJECTOR_MAX_IN_FLIGHT', 10_000, 1, 1_000_000),
      healthPort: readInt(env, 'PROJECTOR_HEALTH_PORT', 9464, 0, 65_535),
      shutdownTimeoutMs: readInt(env, 'PROJECTOR_SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
      retry: {
        baseDelayMs: readInt(env, 'PROJECTOR_RETRY_BASE_DELAY_MS', 100, 1, 60_000),
        maxDelayMs: readInt(env, 'PROJECTOR_RETRY_MAX_DELAY_MS', 5_000, 1, 600_000),
        maxElapsedMs: readInt(env, 'PROJECTOR_RETRY_MAX_ELAPSED_MS', 30_000, 1, 3_600_000),
      },
      subscription: {
        groupName: readString(env, 'PROJECTOR_GROUP') ?? 'chronicle-read-models',
        bufferSize,
        readBatchSize,
        checkpointAfterMs: readInt(env, 'PROJECTOR_SUBSCRIPTION_CHECKPOINT_AFTER_MS', 1000, 0, 600_000),
        maxRetryCount: readInt(env, 'PROJECTOR_SUBSCRIPTION_MAX_RETRY_COUNT', 10, 0, 1000),
        messageTimeoutMs: readInt(env, 'PROJECTOR_SUBSCRIPTION_MESSAGE_TIMEOUT_MS', 30_000, 1000, 3_600_000),
      },
      pollIntervalMs: readInt(env, 'PROJECTOR_POLL_INTERVAL_MS', 100, 1, 60_000),
      emfIntervalMs: readInt(env, 'PROJECTOR_EMF_INTERVAL_MS', 0, 0, 3_600_000),
      stage: readString(env, 'CHRONICLE_STAGE') ?? 'local',
    },
    http: {
      consistencyWaitMs: readInt(env, 'CONSISTENCY_WAIT_MS', 2_000, 0, 29_000),
      maxBodyBytes: readInt(env, 'MAX_BODY_BYTES', 16 * 1024, 64, 6 * 1024 * 1024),
      commandMaxAttempts: readInt(env, 'COMMAND_MAX_ATTEMPTS', 5, 1, 50),
    },
    logLevel: logLevel as Config['logLevel'],
  } satisfies Config);
};
