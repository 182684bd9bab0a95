import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#config';

const failureOf = (env: Record<string, string>): unknown => {
  try {
    loadConfig(env);
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('configuration', () => {
  describe('with an empty environment', () => {
    it('runs on the embedded default: both stores in SQLite files under .data', () => {
      const config = loadConfig({});
      expect(config.eventStore).toEqual({ kind: 'sqlite', path: path.resolve('.data', 'events.sqlite') });
      expect(config.readModels).toEqual({ kind: 'sqlite', path: path.resolve('.data', 'read-models.sqlite') });
      expect(config.readModelVersion).toBe(1);
    });

    it('is frozen', () => {
      expect(Object.isFrozen(loadConfig({}))).toBe(true);
    });
  });

  it('chooses EventStoreDB and Redis when their variables are set', () => {
    const config = loadConfig({ EVENTSTORE_CONNECTION_STRING: 'esdb+discover://a:2113,b:2113', REDIS_URL: 'redis://cache:6379' });
    expect(config.eventStore).toEqual({ kind: 'eventstoredb', connectionString: 'esdb+discover://a:2113,b:2113' });
    expect(config.readModels).toEqual({ kind: 'redis', url: 'redis://cache:6379', waitReplicas: 0, waitTimeoutMs: 1000 });
  });

  it('builds the Redis URL from REDIS_HOST and the AUTH token a deployment resolves from Secrets Manager', () => {
    const config = loadConfig({ REDIS_HOST: 'master.chronicle.cache.amazonaws.com', REDIS_PORT: '6380', REDIS_AUTH_TOKEN: 'to/ken', REDIS_WAIT_REPLICAS: '1' });
    expect(config.readModels).toEqual({ kind: 'redis', url: 'rediss://:to%2Fken@master.chronicle.cache.amazonaws.com:6380', waitReplicas: 1, waitTimeoutMs: 1000 });
  });

  it('keeps the EventStoreDB CA certificate for TLS', () => {
    const pem = '-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----';
    const config = loadConfig({ EVENTSTORE_CONNECTION_STRING: 'esdb://db:2113', EVENTSTORE_CA_CERT: pem });
    expect(config.eventStore).toMatchObject({ kind: 'eventstoredb', caCertPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
  });

  describe('on a deployed stage (CHRONICLE_REQUIRE_PRODUCTION_STORES=true)', () => {
    it.each([
      [{}, 'EVENTSTORE_CONNECTION_STRING'],
      [{ EVENTSTORE_CONNECTION_STRING: 'esdb://db:2113' }, 'REDIS_URL'],
      [{ REDIS_URL: 'rediss://cache:6379' }, 'EVENTSTORE_CONNECTION_STRING'],
    ])('never falls back to SQLite: it fails naming the missing store (%o)', (env, variable) => {
      const error = failureOf({ CHRONICLE_REQUIRE_PRODUCTION_STORES: 'true', ...env });
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as ConfigError).message).toMatch(/never falls back to SQLite/);
    });

    it('starts with both stores', () => {
      const config = loadConfig({ CHRONICLE_REQUIRE_PRODUCTION_STORES: 'true', EVENTSTORE_CONNECTION_STRING: 'esdb://db:2113', REDIS_HOST: 'cache' });
      expect([config.eventStore.kind, config.readModels.kind]).toEqual(['eventstoredb', 'redis']);
    });

    describe('for a function that declares the stores it uses (CHRONICLE_STORES)', () => {
      const deployed = { CHRONICLE_REQUIRE_PRODUCTION_STORES: 'true' };

      it('needs only those: a read-model query starts without the event store, and never on SQLite', () => {
        const config = loadConfig({ ...deployed, CHRONICLE_STORES: 'readmodels', REDIS_HOST: 'cache' });
        expect([config.eventStore.kind, config.dataKeys.store.kind, config.snapshots.store.kind, config.readModels.kind]).toEqual(['unused', 'unused', 'unused', 'redis']);
      });

      it('still fails naming a declared store that is missing', () => {
        const error = failureOf({ ...deployed, CHRONICLE_STORES: 'eventstore', REDIS_HOST: 'cache' });
        expect((error as ConfigError).variable).toBe('EVENTSTORE_CONNECTION_STRING');
      });

      it('may use neither (the catch-all route)', () => {
        const config = loadConfig({ ...deployed, CHRONICLE_STORES: 'none' });
        expect([config.eventStore.kind, config.readModels.kind]).toEqual(['unused', 'unused']);
      });

      it('refuses a store it does not know', () => {
        expect((failureOf({ CHRONICLE_STORES: 'eventstore,postgres' }) as ConfigError).variable).toBe('CHRONICLE_STORES');
      });
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ EVENTSTORE_CONNECTION_STRING: '', REDIS_URL: ' ' }).eventStore.kind).toBe('sqlite');
  });

  describe('with a bad value', () => {
    it.each([
      [{ REDIS_URL: 'http://cache' }, 'REDIS_URL'],
      [{ EVENTSTORE_CONNECTION_STRING: 'not a url' }, 'EVENTSTORE_CONNECTION_STRING'],
      [{ PROJECTOR_BATCH_SIZE: 'lots' }, 'PROJECTOR_BATCH_SIZE'],
      [{ PROJECTOR_BATCH_SIZE: '0' }, 'PROJECTOR_BATCH_SIZE'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ EVENTSTORE_CONNECTION_STRING: 'esdb://db:2113', EVENTSTORE_CA_CERT: 'not a pem' }, 'EVENTSTORE_CA_CERT'],
      [{ REDIS_HOST: 'cache/0' }, 'REDIS_HOST'],
      [{ REDIS_HOST: 'cache', REDIS_TLS: 'yes' }, 'REDIS_TLS'],
      [{ REDIS_URL: 'redis://cache', REDIS_WAIT_REPLICAS: '9' }, 'REDIS_WAIT_REPLICAS'],
      [{ CHRONICLE_REQUIRE_PRODUCTION_STORES: 'yes' }, 'CHRONICLE_REQUIRE_PRODUCTION_STORES'],
      [{ PROJECTOR_SUBSCRIPTION_BUFFER_SIZE: '100', PROJECTOR_SUBSCRIPTION_READ_BATCH_SIZE: '100' }, 'PROJECTOR_SUBSCRIPTION_READ_BATCH_SIZE'],
    ])('fails at start naming the variable (%o)', (env, variable) => {
      const error = failureOf(env);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as ConfigError).message).toMatch(new RegExp(`^${variable}: `));
    });
  });
});

describe('data keys configuration', () => {
  it('keeps keys in keys.sqlite wrapped by a key file under DATA_DIR by default', () => {
    expect(loadConfig({ DATA_DIR: '/d' }).dataKeys).toEqual({
      store: { kind: 'sqlite', path: '/d/keys.sqlite' },
      wrapping: { kind: 'local-file', path: '/d/key-wrapping.key' },
      cache: { maxEntries: 100_000, ttlMs: 60_000 },
    });
  });

  it('keeps keys in EventStoreDB key streams, wrapped by KMS, when both are configured', () => {
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/0b7d5a1e-2c4f-4e8a-9b1d-3f6e8a2c4d10';
    const config = loadConfig({ EVENTSTORE_CONNECTION_STRING: 'esdb://a:2113', DATA_KEY_KMS_KEY_ARN: arn });
    expect(config.dataKeys.store).toEqual({ kind: 'eventstoredb' });
    expect(config.dataKeys.wrapping).toEqual({ kind: 'kms', keyArn: arn });
  });

  it('names the variable when a key ARN or a wrapping key is malformed', () => {
    expect((failureOf({ DATA_KEY_KMS_KEY_ARN: 'my-key' }) as ConfigError).variable).toBe('DATA_KEY_KMS_KEY_ARN');
    expect((failureOf({ DATA_KEY_WRAPPING_KEY: 'c2hvcnQ=' }) as ConfigError).variable).toBe('DATA_KEY_WRAPPING_KEY');
  });

  it('refuses a wrapping key file on Lambda, where it would be lost with the container', () => {
    expect((failureOf({ AWS_LAMBDA_FUNCTION_NAME: 'chronicle-dev-getUser' }) as ConfigError).variable).toBe('DATA_KEY_KMS_KEY_ARN');
    expect(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f', IS_OFFLINE: 'true' }).dataKeys.wrapping.kind).toBe('local-file');
  });
});
