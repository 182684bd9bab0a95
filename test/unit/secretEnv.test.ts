import { describe, expect, it } from 'vitest';
import { loadConfig } from '#config';
import { SecretEnvError, resolveSecretEnv } from '#secretEnv';

const secrets: Record<string, string> = {
  'chronicle/prod/eventstore-connection-string': 'esdb+discover://user:pass@db.example:2113',
  'arn:aws:secretsmanager:eu-west-1:1:secret:redis-AbCdEf': 'token\n',
};
const fetchSecret = async (id: string): Promise<string> => {
  const value = secrets[id];
  if (value === undefined) throw new Error('ResourceNotFoundException');
  return value;
};

describe('secrets in the environment', () => {
  it('fills X from X_SECRET_ARN before the configuration is read', async () => {
    const env = await resolveSecretEnv(
      {
        CHRONICLE_REQUIRE_PRODUCTION_STORES: 'true',
        EVENTSTORE_CONNECTION_STRING_SECRET_ARN: 'chronicle/prod/eventstore-connection-string',
        REDIS_HOST: 'cache',
        REDIS_AUTH_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:redis-AbCdEf',
      },
      fetchSecret,
    );
    expect(env['REDIS_AUTH_TOKEN']).toBe('token');
    const config = loadConfig(env);
    expect(config.eventStore).toMatchObject({ kind: 'eventstoredb', connectionString: 'esdb+discover://user:pass@db.example:2113' });
    expect(config.readModels).toMatchObject({ kind: 'redis', url: 'rediss://:token@cache:6379' });
  });

  it('leaves an environment without secret references as it is, and never calls AWS', async () => {
    const env = { REDIS_URL: 'redis://localhost:6379', EMPTY_SECRET_ARN: '' };
    await expect(resolveSecretEnv(env, () => Promise.reject(new Error('called')))).resolves.toBe(env);
  });

  it('lets a value given directly win over its secret (local runs)', async () => {
    const env = await resolveSecretEnv({ REDIS_URL: 'redis://here:6379', REDIS_URL_SECRET_ARN: 'nowhere' }, () => Promise.reject(new Error('called')));
    expect(env['REDIS_URL']).toBe('redis://here:6379');
  });

  it('fails the start naming the variable and the secret, never a value', async () => {
    const failure = await resolveSecretEnv({ REDIS_URL_SECRET_ARN: 'chronicle/prod/missing' }, fetchSecret).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SecretEnvError);
    expect((failure as SecretEnvError).variable).toBe('REDIS_URL_SECRET_ARN');
    expect((failure as SecretEnvError).message).toMatch(/chronicle\/prod\/missing: ResourceNotFoundException|could not read secret chronicle\/prod\/missing/);
  });
});
