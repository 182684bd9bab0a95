import path from 'node:path';
import type { PersistentGroupSettings } from '#adapters/eventstoredb/index';

/**
 * The one place that reads the environment. Everything has a default that works locally;
 * a bad value fails at start with a message naming the variable.
 */
/**
 * A store this process does not use (CHRONICLE_STORES leaves it out): a deployed function gets
 * only the settings, secrets and permissions of the stores it uses, and touching another fails.
 */
export interface UnusedStore {
  readonly kind: 'unused';
}

export type EventStoreConfig =
  | UnusedStore
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'eventstoredb';
      readonly connectionString: string;
      /** PEM of the CA that signed the server certificates (EVENTSTORE_CA_CERT); TLS verifies against it. */
      readonly caCertPem?: string;
    };

export type ReadModelsConfig =
  | UnusedStore
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

/** Where data keys are kept, how they are wrapped, and how long a process may cache one. */
export interface DataKeysConfig {
  /** Beside the event log, so unused where the event store is. */
  readonly store: UnusedStore | { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'eventstoredb' };
  readonly wrapping:
    | { readonly kind: 'kms'; readonly keyArn: string }
    | { readonly kind: 'local-key'; readonly key: Uint8Array }
    | { readonly kind: 'local-file'; readonly path: string };
  readonly cache: { readonly maxEntries: number; readonly ttlMs: number };
}

/** Snapshots of long user streams (a cache in front of the fold; README § Long streams). */
export interface SnapshotsConfig {
  readonly store: { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'eventstoredb' } | UnusedStore;
  /** A snapshot every this many events of a stream; 0 turns snapshots off. */
  readonly every: number;
}

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
  /** Blue/green read models (README § Read-model versions). */
  readonly versions: ReadModelVersionsConfig;
}

export interface ReadModelVersionsConfig {
  /** A projector whose READ_MODEL_VERSION is new builds it and, once caught up, activates it. */
  readonly autoActivate: boolean;
  /** Activation waits until the version lags the log by at most this many events. */
  readonly activationMaxLag: number;
  /** How often a projector looks at the registry: versions to keep current, whether to activate. */
  readonly checkIntervalMs: number;
}

export interface HttpConfig {
  /** Bound on a query's wait for the read model to reach a consistency token. */
  readonly consistencyWaitMs: number;
  readonly maxBodyBytes: number;
  /** Attempts of a command whose append lost a concurrency race (without If-Match). */
  readonly commandMaxAttempts: number;
}

/** How bearer tokens are verified (README § Authentication). */
export interface AuthConfig {
  readonly issuer: string;
  readonly audience: string;
  /** The issuer's JWKS; unset: found through the issuer's OpenID discovery document. */
  readonly jwksUrl: string | undefined;
  readonly clockSkewSeconds: number;
  readonly adminScope: string;
  readonly verifierScope: string;
}

/** Server secrets of the HTTP side; none has a default, so a deployment cannot run on a published one. */
export interface HttpSecrets {
  /** The first signs consistency tokens, all verify them (rotation). */
  readonly consistencyTokenKeys: readonly string[];
  /** Keys the hash in email reservation stream names and request fingerprints. Fixed for the life of the data. */
  readonly emailReservationKey: string;
}

export interface Config {
  readonly dataDir: string;
  readonly eventStore: EventStoreConfig;
  readonly readModels: ReadModelsConfig;
  readonly dataKeys: DataKeysConfig;
  readonly snapshots: SnapshotsConfig;
  /** Read models live under `rm:v<N>:` (Redis) so a rebuild can build the next version beside this one. */
  readonly readModelVersion: number;
  /**
   * Redis: where the version registry lives (`<namespace>versions`, `<namespace>active`). One
   * deployment per namespace; tests sharing one server give each stack its own.
   */
  readonly readModelRegistryNamespace: string;
  readonly projector: ProjectorConfig;
  readonly http: HttpConfig;
  /** Undefined when AUTH_ISSUER is unset: only processes that serve HTTP require it (requireHttpSecurity). */
  readonly auth: AuthConfig | undefined;
  readonly httpSecrets: HttpSecrets | undefined;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The deployed stage (CHRONICLE_STAGE): the `Stage` dimension of the CloudWatch metrics. */
  readonly stage: string;
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

export type Env = Readonly<Record<string, string | undefined>>;

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

const readRegistryNamespace = (env: Env): string => {
  const raw = readString(env, 'READ_MODEL_REGISTRY_NAMESPACE') ?? 'rm:';
  if (!/^[A-Za-z0-9:_-]{1,64}$/.test(raw)) throw new ConfigError('READ_MODEL_REGISTRY_NAMESPACE', 'must be 1 to 64 letters, digits, ":", "_" or "-"');
  return raw;
};

const readBoolean = (env: Env, name: string, fallback: boolean): boolean => {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
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

const KMS_KEY_ARN = /^arn:aws[\w-]*:kms:[\w-]+:\d{12}:(key|alias)\/\S+$/;

/**
 * KMS on AWS (DATA_KEY_KMS_KEY_ARN, set by the deployment); elsewhere a local wrapping key, given
 * (DATA_KEY_WRAPPING_KEY, base64 of 32 bytes) or kept in a file under DATA_DIR, created on first
 * use. On Lambda a file would be per container and lost with it, so KMS or a given key is required.
 */
const readKeyWrapping = (env: Env, dataDir: string): DataKeysConfig['wrapping'] => {
  const arn = readString(env, 'DATA_KEY_KMS_KEY_ARN');
  if (arn !== undefined) {
    if (!KMS_KEY_ARN.test(arn)) throw new ConfigError('DATA_KEY_KMS_KEY_ARN', 'must be a KMS key or alias ARN (arn:aws:kms:<region>:<account>:key/<id>)');
    return { kind: 'kms', keyArn: arn };
  }
  const given = readString(env, 'DATA_KEY_WRAPPING_KEY');
  if (given !== undefined) {
    const key = Buffer.from(given, 'base64');
    if (key.length !== 32) throw new ConfigError('DATA_KEY_WRAPPING_KEY', 'must be the base64 of exactly 32 bytes');
    return { kind: 'local-key', key: new Uint8Array(key) };
  }
  // serverless-offline sets the Lambda variables too, and IS_OFFLINE beside them.
  if (readString(env, 'AWS_LAMBDA_FUNCTION_NAME') !== undefined && readString(env, 'IS_OFFLINE') === undefined)
    throw new ConfigError('DATA_KEY_KMS_KEY_ARN', 'is required on AWS Lambda (or DATA_KEY_WRAPPING_KEY): a wrapping key file would be lost with the container');
  return { kind: 'local-file', path: path.join(dataDir, 'key-wrapping.key') };
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

const STORES = ['eventstore', 'readmodels'] as const;
type StoreName = (typeof STORES)[number];

/** CHRONICLE_STORES: the stores this process uses, comma-separated (default: both). */
const readStoresInUse = (env: Env): ReadonlySet<StoreName> => {
  const raw = readString(env, 'CHRONICLE_STORES');
  if (raw === undefined) return new Set(STORES);
  const names = raw === 'none' ? [] : raw.split(',').map((name) => name.trim());
  for (const name of names)
    if (!(STORES as readonly string[]).includes(name)) throw new ConfigError('CHRONICLE_STORES', `must be "none" or a comma-separated list of ${STORES.join(', ')}, got "${name}"`);
  return new Set(names as StoreName[]);
};

/** The error of a process that reaches for a store it declared it does not use. */
export const storeNotInUse = (store: StoreName): ConfigError =>
  new ConfigError('CHRONICLE_STORES', `does not list ${store}, and this process tried to use it (add it, with its settings and permissions, where the function is declared)`);

const missingInProduction = (variable: string, alternatives: string): ConfigError =>
  new ConfigError(variable, `is required: CHRONICLE_REQUIRE_PRODUCTION_STORES=true and a deployed stage never falls back to SQLite (set ${alternatives})`);

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

// A scope is one space-free token (RFC 6749 § 3.3).
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

const readScope = (env: Env, name: string, fallback: string): string => {
  const scope = readString(env, name) ?? fallback;
  if (!SCOPE.test(scope)) throw new ConfigError(name, 'must be one OAuth scope token (no spaces or quotes)');
  return scope;
};

const readAuth = (env: Env): AuthConfig | undefined => {
  const issuer = readString(env, 'AUTH_ISSUER');
  if (issuer === undefined) return undefined;
  const audience = readString(env, 'AUTH_AUDIENCE');
  if (audience === undefined) throw new ConfigError('AUTH_AUDIENCE', 'is required when AUTH_ISSUER is set');
  const jwksUrl = readUrl(env, 'AUTH_JWKS_URL', ['https:', 'http:']);
  if (jwksUrl === undefined && !/^https?:\/\//.test(issuer))
    throw new ConfigError('AUTH_JWKS_URL', 'is required when AUTH_ISSUER is not a URL whose discovery document names the keys');
  return {
    issuer,
    audience,
    jwksUrl,
    clockSkewSeconds: readInt(env, 'AUTH_CLOCK_SKEW_SECONDS', 30, 0, 300),
    adminScope: readScope(env, 'AUTH_ADMIN_SCOPE', 'chronicle:admin'),
    verifierScope: readScope(env, 'AUTH_VERIFIER_SCOPE', 'chronicle:verify-email'),
  };
};

const MIN_SECRET_LENGTH = 32;

const readSecret = (env: Env, name: string): string | undefined => {
  const secret = readString(env, name);
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) throw new ConfigError(name, `must be at least ${MIN_SECRET_LENGTH} characters of random data`);
  return secret;
};

const readHttpSecrets = (env: Env): HttpSecrets | undefined => {
  const tokenKeys = readString(env, 'CONSISTENCY_TOKEN_KEY');
  const emailReservationKey = readSecret(env, 'EMAIL_RESERVATION_KEY');
  if (tokenKeys === undefined && emailReservationKey === undefined) return undefined;
  if (tokenKeys === undefined) throw new ConfigError('CONSISTENCY_TOKEN_KEY', 'is required when EMAIL_RESERVATION_KEY is set');
  if (emailReservationKey === undefined) throw new ConfigError('EMAIL_RESERVATION_KEY', 'is required when CONSISTENCY_TOKEN_KEY is set');
  const consistencyTokenKeys = tokenKeys.split(',').map((key) => key.trim());
  if (consistencyTokenKeys.some((key) => key.length < MIN_SECRET_LENGTH))
    throw new ConfigError('CONSISTENCY_TOKEN_KEY', `every comma-separated key must be at least ${MIN_SECRET_LENGTH} characters of random data`);
  return { consistencyTokenKeys, emailReservationKey };
};

/** What serving HTTP needs beyond the stores; a process that serves HTTP without it does not start. */
export const requireHttpSecurity = (config: Config): { readonly auth: AuthConfig; readonly secrets: HttpSecrets } => {
  if (config.auth === undefined) throw new ConfigError('AUTH_ISSUER', 'is required: every request is authenticated (npm start sets a local development issuer)');
  if (config.httpSecrets === undefined) throw new ConfigError('CONSISTENCY_TOKEN_KEY', 'and EMAIL_RESERVATION_KEY are required (npm start creates local ones under DATA_DIR)');
  return { auth: config.auth, secrets: config.httpSecrets };
};

export const loadConfig = (env: Env = process.env): Config => {
  const dataDir = path.resolve(readString(env, 'DATA_DIR') ?? '.data');
  const inUse = readStoresInUse(env);
  const esdb = readEventStoreConnectionString(env);
  const redis = readRedisUrl(env);
  if (requireProductionStores(env)) {
    if (inUse.has('eventstore') && esdb === undefined) throw missingInProduction('EVENTSTORE_CONNECTION_STRING', 'it, or EVENTSTORE_CONNECTION_STRING_SECRET_ARN');
    if (inUse.has('readmodels') && redis === undefined) throw missingInProduction('REDIS_URL', 'it, REDIS_URL_SECRET_ARN, or REDIS_HOST with REDIS_AUTH_TOKEN_SECRET_ARN');
  }
  const unused = { kind: 'unused' } as const;
  // Data keys and snapshots sit beside the event log: EventStoreDB streams, else a SQLite file of their own.
  const besideEventLog = (file: string) =>
    !inUse.has('eventstore') ? unused : esdb ? ({ kind: 'eventstoredb' } as const) : ({ kind: 'sqlite', path: path.join(dataDir, file) } as const);
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
    eventStore: !inUse.has('eventstore')
      ? unused
      : esdb
      ? { kind: 'eventstoredb', connectionString: esdb, ...(caCertPem === undefined ? {} : { caCertPem: `${caCertPem.replace(/\\n/g, '\n')}\n` }) }
      : { kind: 'sqlite', path: path.join(dataDir, 'events.sqlite') },
    readModels: !inUse.has('readmodels')
      ? unused
      : redis
      ? {
          kind: 'redis',
          url: redis,
          waitReplicas: readInt(env, 'REDIS_WAIT_REPLICAS', 0, 0, 5),
          waitTimeoutMs: readInt(env, 'REDIS_WAIT_TIMEOUT_MS', 1_000, 1, 60_000),
        }
      : { kind: 'sqlite', path: path.join(dataDir, 'read-models.sqlite') },
    dataKeys: {
      store: besideEventLog('keys.sqlite'),
      wrapping: readKeyWrapping(env, dataDir),
      cache: { maxEntries: readInt(env, 'DATA_KEY_CACHE_MAX_ENTRIES', 100_000, 0, 10_000_000), ttlMs: readInt(env, 'DATA_KEY_CACHE_TTL_MS', 60_000, 0, 3_600_000) },
    },
    snapshots: {
      store: besideEventLog('snapshots.sqlite'),
      every: readInt(env, 'SNAPSHOT_EVERY', 100, 0, 1_000_000),
    },
    readModelVersion: readInt(env, 'READ_MODEL_VERSION', 1, 1, 1_000_000),
    readModelRegistryNamespace: readRegistryNamespace(env),
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
      versions: {
        autoActivate: readBoolean(env, 'PROJECTOR_AUTO_ACTIVATE', true),
        activationMaxLag: readInt(env, 'PROJECTOR_ACTIVATION_MAX_LAG', 100, 0, 1_000_000),
        checkIntervalMs: readInt(env, 'PROJECTOR_VERSION_CHECK_INTERVAL_MS', 1_000, 10, 600_000),
      },
      emfIntervalMs: readInt(env, 'PROJECTOR_EMF_INTERVAL_MS', 0, 0, 3_600_000),
    },
    http: {
      consistencyWaitMs: readInt(env, 'CONSISTENCY_WAIT_MS', 2_000, 0, 29_000),
      maxBodyBytes: readInt(env, 'MAX_BODY_BYTES', 16 * 1024, 64, 6 * 1024 * 1024),
      commandMaxAttempts: readInt(env, 'COMMAND_MAX_ATTEMPTS', 5, 1, 50),
    },
    auth: readAuth(env),
    httpSecrets: readHttpSecrets(env),
    logLevel: logLevel as Config['logLevel'],
    stage: readString(env, 'CHRONICLE_STAGE') ?? 'local',
  } satisfies Config);
};
