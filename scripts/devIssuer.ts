/**
 * The local development issuer: what `npm start` runs so that the service is authenticated on
 * a laptop exactly as in production. One ES256 key pair per DATA_DIR, created on first use;
 * its public half is served as a JWKS on localhost; `npm run token` signs tokens with the
 * private half. Never used when production stores are configured, unless explicitly asked for.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

export const DEV_ISSUER = 'urn:chronicle:dev-issuer';
export const DEV_AUDIENCE = 'chronicle-local';
export const DEV_ADMIN_SCOPE = 'chronicle:admin';
export const DEV_VERIFIER_SCOPE = 'chronicle:verify-email';
const ALGORITHM = 'ES256';

interface StoredKeys {
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

/** Writes `content` unless the file exists; either way answers what the file holds (two processes may race to create it). */
const createOnce = (file: string, content: () => string): string => {
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(file, content(), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(file, 'utf8');
};

const keyFile = (dataDir: string): string => path.join(dataDir, 'dev-issuer', 'signing-key.json');

const loadKeys = async (dataDir: string): Promise<StoredKeys> => {
  const file = keyFile(dataDir);
  let generated: StoredKeys | null = null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StoredKeys;
  } catch {
    const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
    const kid = randomUUID();
    generated = {
      privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALGORITHM, use: 'sig' },
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig' },
    };
  }
  const written = generated;
  return JSON.parse(createOnce(file, () => JSON.stringify(written))) as StoredKeys;
};

/** The public keys, as the issuer's JWKS document. */
export const devJwks = async (dataDir: string): Promise<{ keys: JWK[] }> => ({ keys: [(await loadKeys(dataDir)).publicJwk] });

export interface DevTokenRequest {
  readonly subject: string;
  readonly admin?: boolean;
  readonly verifier?: boolean;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly ttlSeconds?: number;
}

export const mintDevToken = async (dataDir: string, request: DevTokenRequest): Promise<string> => {
  const keys = await loadKeys(dataDir);
  const scopes = [...(request.admin ? [DEV_ADMIN_SCOPE] : []), ...(request.verifier ? [DEV_VERIFIER_SCOPE] : [])];
  const claims: Record<string, unknown> = {
    ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    ...(request.email === undefined ? {} : { email: request.email, email_verified: request.emailVerified === true }),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, kid: keys.privateJwk.kid ?? '', typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(request.subject)
    .setIssuedAt()
    .setExpirationTime(`${request.ttlSeconds ?? 3600}s`)
    .sign(await importJWK(keys.privateJwk, ALGORITHM));
};

/**
 * Server secrets for local runs: random, kept under DATA_DIR so that tokens and reservation
 * names stay valid across restarts of the same DATA_DIR.
 */
export const localHttpSecrets = (dataDir: string): { CONSISTENCY_TOKEN_KEY: string; EMAIL_RESERVATION_KEY: string } =>
  JSON.parse(
    createOnce(path.join(dataDir, 'dev-issuer', 'local-secrets.json'), () =>
      JSON.stringify({ CONSISTENCY_TOKEN_KEY: randomBytes(32).toString('base64url'), EMAIL_RESERVATION_KEY: randomBytes(32).toString('base64url') }),
    ),
  ) as { CONSISTENCY_TOKEN_KEY: string; EMAIL_RESERVATION_KEY: string };

/** Serves the JWKS on loopback; answers the URL to configure as AUTH_JWKS_URL. */
export const serveDevJwks = async (dataDir: string, port = 0): Promise<{ readonly jwksUrl: string; close(): Promise<void> }> => {
  const body = JSON.stringify(await devJwks(dataDir));
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(body);
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    jwksUrl: `http://127.0.0.1:${bound}/.well-known/jwks.json`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};
