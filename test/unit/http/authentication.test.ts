import { createHmac, generateKeyPairSync } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { HttpEvent } from '#http/httpEvent';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { silentLogger } from '#logging/jsonLogger';
import { issuerJwk, issuerKey, signToken, TEST_AUDIENCE, TEST_ISSUER, testStackDeps } from '#test/support/testIdentity';

const context = { awsRequestId: 'req-1' } as Context;
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

const stack = () => {
  const calls: unknown[] = [];
  const handler = httpHandler(
    testStackDeps(silentLogger),
    { route: 'POST /users/{id}/email', access: 'owner-or-admin', body: 'required', schemas: { path: z.object({ id: z.string() }), body: z.object({ email: z.string() }) } },
    async (request) => {
      calls.push(request.principal);
      return jsonResponse(200, { subject: request.principal.subject });
    },
  );
  const send = (authorization: string | undefined) =>
    handler(
      {
        version: '2.0',
        routeKey: 'POST /users/{id}/email',
        rawPath: '/users/u-1/email',
        rawQueryString: '',
        headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        pathParameters: { id: 'u-1' },
        requestContext: { requestId: 'r', http: { method: 'POST', path: '/users/u-1/email' } },
        body: '{"email":"a@example.com"}',
        isBase64Encoded: false,
      } as unknown as HttpEvent,
      context,
    );
  return { send, calls };
};

const admin = { sub: 'root', scope: 'chronicle:admin' };

/** An admin token for the test issuer and audience, signed with any key under any header. */
const adminTokenSignedWith = async (header: { alg: string; kid?: string }, key: Parameters<SignJWT['sign']>[0]): Promise<string> =>
  `Bearer ${await new SignJWT({ scope: 'chronicle:admin' }).setProtectedHeader(header).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setSubject('root').setExpirationTime('5m').sign(key)}`;


/** Every way a token can be wrong; each must be refused the same way, before anything runs. */
const hostileTokens: Array<[string, () => Promise<string | undefined>]> = [
  ['no Authorization header', async () => undefined],
  ['an empty header', async () => ''],
  ['another scheme', async () => `Basic ${Buffer.from('root:root').toString('base64')}`],
  ['a bearer that is no JWT', async () => 'Bearer not-a-jwt'],
  ['a bearer with spaces inside', async () => `Bearer ${await signToken(admin)} extra`],
  ['an expired token', async () => `Bearer ${await signToken(admin, { expiresIn: now() - 60 })}`],
  ['a token not yet valid', async () => `Bearer ${await signToken(admin, { notBefore: now() + 600 })}`],
  ['a token from another issuer', async () => `Bearer ${await signToken(admin, { iss: 'https://evil.example' })}`],
  ['a token for another audience', async () => `Bearer ${await signToken(admin, { aud: 'someone-else' })}`],
  ['a token without a subject', async () => `Bearer ${await signToken({ scope: 'chronicle:admin' })}`],
  ['alg: none', async () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'root', scope: 'chronicle:admin', exp: now() + 600 })}.`],
  [
    'HS256 signed with the issuer’s public key as the secret',
    async () => {
      const header = b64({ alg: 'HS256', typ: 'JWT', kid: 'test-key-1' });
      const payload = b64({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'root', scope: 'chronicle:admin', exp: now() + 600 });
      const secret = await exportSPKI(issuerKey.publicKey);
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      return `Bearer ${header}.${payload}.${signature}`;
    },
  ],
  [
    'HS256 signed with the JWK of the public key as the secret',
    async () => {
      const header = b64({ alg: 'HS256', typ: 'JWT', kid: 'test-key-1' });
      const payload = b64({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'root', scope: 'chronicle:admin', exp: now() + 600 });
      const signature = createHmac('sha256', JSON.stringify(issuerJwk)).update(`${header}.${payload}`).digest('base64url');
      return `Bearer ${header}.${payload}.${signature}`;
    },
  ],
  [
    'a tampered payload (subject swapped for an admin)',
    async () => {
      const [header, , signature] = (await signToken({ sub: 'alice' })).split('.');
      return `Bearer ${header}.${b64({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'root', scope: 'chronicle:admin', exp: now() + 600 })}.${signature}`;
    },
  ],
  [
    'an unknown kid',
    async () => adminTokenSignedWith({ alg: 'ES256', kid: 'no-such-key' }, issuerKey.privateKey),
  ],
  [
    'a valid signature by another key under the issuer’s kid',
    async () => adminTokenSignedWith({ alg: 'ES256', kid: 'test-key-1' }, (await generateKeyPair('ES256')).privateKey),
  ],
  [
    'RS256 by a key the issuer never published',
    async () => adminTokenSignedWith({ alg: 'RS256' }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
  ],
  ['an oversized header', async () => `Bearer ${'a'.repeat(20_000)}`],
];

describe('authentication', () => {
  it.each(hostileTokens)('refuses %s with 401 and a Bearer challenge, running nothing', async (_name, make) => {
    const { send, calls } = stack();
    const authorization = await make();
    const response = await send(authorization);
    expect(response.statusCode).toBe(401);
    const body = JSON.parse(response.body) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAUTHENTICATED');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="chronicle"/);
    if (authorization !== undefined && authorization !== '') expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    // The body never says which check failed.
    expect(body.error.message).toMatch(/^(a bearer token is required|the bearer token is not valid)$/);
    expect(calls).toEqual([]);
  });

  it('accepts a valid token and hands the handler its principal', async () => {
    const { send, calls } = stack();
    const response = await send(`Bearer ${await signToken(admin)}`);
    expect(response.statusCode).toBe(200);
    expect(calls).toEqual([expect.objectContaining({ issuer: TEST_ISSUER, subject: 'root', isAdmin: true })]);
  });

  it('accepts the scheme in any case, within the configured clock skew', async () => {
    const { send } = stack();
    expect((await send(`bearer ${await signToken(admin, { expiresIn: now() - 2 })}`)).statusCode).toBe(200);
  });

  it('reads a proven mailbox only when the identity provider says it is verified', async () => {
    const { send, calls } = stack();
    await send(`Bearer ${await signToken({ ...admin, email: 'Ada@Example.com', email_verified: true })}`);
    await send(`Bearer ${await signToken({ ...admin, email: 'ada@example.com', email_verified: false })}`);
    expect(calls.map((p) => (p as { verifiedEmail?: string }).verifiedEmail)).toEqual(['ada@example.com', undefined]);
  });

  it('answers 503, not 401, when the issuer’s keys cannot be fetched', async () => {
    const { createJoseTokenVerifier } = await import('#adapters/jose/joseTokenVerifier');
    const verifier = createJoseTokenVerifier({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json',
      clockSkewSeconds: 0,
      adminScope: 'a',
      verifierScope: 'v',
    });
    await expect(verifier.verify(await signToken(admin))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});

describe('the JWKS the test issuer publishes', () => {
  it('holds only public material', async () => {
    expect(issuerJwk).not.toHaveProperty('d');
    expect(Object.keys(await exportJWK(issuerKey.publicKey))).not.toContain('d');
  });
});
