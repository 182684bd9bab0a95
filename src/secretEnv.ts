/**
 * Sensitive settings never travel as plaintext environment variables of a deployed function.
 * The deployment gives `X_SECRET_ARN` (a Secrets Manager secret whose string is the value of X)
 * and this fills X into a copy of the environment before `loadConfig` reads it, once per cold
 * start. `loadConfig` itself stays pure and synchronous.
 *
 * The AWS client is imported only when some `*_SECRET_ARN` is set, so local runs (SQLite, or
 * plain variables) never load it and need no AWS credentials.
 */
import { ConfigError, type Env } from '#config';

/** Reads one secret's string value (Secrets Manager GetSecretValue by default). */
export type FetchSecret = (secretId: string) => Promise<string>;

const SUFFIX = '_SECRET_ARN';

/** A `X_SECRET_ARN` that could not be resolved: a configuration error naming that variable. */
export class SecretEnvError extends ConfigError {
  override readonly name = 'SecretEnvError';
}

/**
 * A dynamic import of the SDK that ships with the Lambda runtime (and is a dependency of the
 * projector image): bundles keep it external and lazy, so a function or process that has no
 * secret to read never loads it. (Powertools' parameters utility was tried first: bundled, it
 * turned this into a static import that every cold start paid for.) Secrets are read once per
 * cold start; the caller keeps the result for the container's lifetime.
 */
const fetchFromSecretsManager: FetchSecret = async (secretId) => {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (SecretString === undefined) throw new Error('the secret has no string value (binary secrets are not supported)');
    return SecretString;
  } finally {
    client.destroy();
  }
};

/** The variables that name a secret: `X_SECRET_ARN` → X, for every X not already set. */
export const secretReferences = (env: Env): ReadonlyArray<{ readonly variable: string; readonly secretId: string }> =>
  Object.entries(env)
    .filter((entry): entry is [string, string] => entry[0].endsWith(SUFFIX) && (entry[1]?.trim() ?? '') !== '')
    .map(([name, secretId]) => ({ variable: name.slice(0, -SUFFIX.length), secretId: secretId.trim() }))
    // A value given directly wins (local runs and tests); an empty one counts as unset.
    .filter(({ variable }) => (env[variable]?.trim() ?? '') === '');

/**
 * A copy of `env` with every `X_SECRET_ARN` resolved into X. A secret that cannot be read fails the
 * start naming the variable (and the secret, never its value).
 */
export const resolveSecretEnv = async (env: Env, fetchSecret: FetchSecret = fetchFromSecretsManager): Promise<Env> => {
  const references = secretReferences(env);
  if (references.length === 0) return env;
  const values = await Promise.all(
    references.map(async ({ variable, secretId }) => {
      try {
        return [variable, (await fetchSecret(secretId)).trim()] as const;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new SecretEnvError(`${variable}${SUFFIX}`, `could not read secret ${secretId}: ${reason}`);
      }
    }),
  );
  return Object.freeze({ ...env, ...Object.fromEntries(values) });
};
