import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { createJoseTokenVerifier } from '#adapters/jose/joseTokenVerifier';
import { createConsistencyTokens } from '#http/consistencyToken';
import type { HttpStackDeps } from '#http/httpHandler';
import { createRequestFingerprinter } from '#http/requestFingerprint';
import type { Logger } from '#logging/jsonLogger';
import type { Principal } from '#ports/tokenVerifier';

export const TEST_ISSUER = 'https://issuer.test.example';
export const TEST_AUDIENCE = 'chronicle-test';
export const ADMIN_SCOPE = 'chronicle:admin';
export const VERIFIER_SCOPE = 'chronicle:verify-email';
export const TEST_TOKEN_KEYS = ['test-consistency-token-key-0123456789abcdef'] as const;

/** A signing key of the test issuer, and its public JWKS. */
export const issuerKey = await generateKeyPair('ES256', { extractable: true });
export const issuerJwk: JWK = { ...(await exportJWK(issuerKey.publicKey)), kid: 'test-key-1', alg: 'ES256', use: 'sig' };

export interface TokenClaims {
  readonly sub?: string;
  readonly scope?: string;
  readonly email?: string;
  readonly email_verified?: boolean;
  readonly [claim: string]: unknown;
}

/** A token the test issuer signs; `tweak` may change standard claims (iss, aud, exp, nbf). */
export const signToken = async (claims: TokenClaims, tweak: { iss?: string; aud?: string; expiresIn?: string | number; notBefore?: string | number } = {}): Promise<string> => {
  const { sub, ...rest } = claims;
  const jwt = new SignJWT(rest as JWTPayload)
    .setProtectedHeader({ alg: 'ES256', kid: 'test-key-1', typ: 'JWT' })
    .setIssuer(tweak.iss ?? TEST_ISSUER)
    .setAudience(tweak.aud ?? TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(tweak.expiresIn ?? '10m');
  if (sub !== undefined) jwt.setSubject(sub);
  if (tweak.notBefore !== undefined) jwt.setNotBefore(tweak.notBefore);
  return jwt.sign(issuerKey.privateKey);
};

export const testTokenVerifier = createJoseTokenVerifier({
  issuer: TEST_ISSUER,
  audience: TEST_AUDIENCE,
  jwks: { keys: [issuerJwk] },
  clockSkewSeconds: 5,
  adminScope: ADMIN_SCOPE,
  verifierScope: VERIFIER_SCOPE,
});

export const testStackDeps = (logger: Logger, maxBodyBytes = 16_384): HttpStackDeps => ({
  logger,
  maxBodyBytes,
  tokenVerifier: testTokenVerifier,
  consistencyTokens: createConsistencyTokens(TEST_TOKEN_KEYS),
  fingerprintRequest: createRequestFingerprinter('test-fingerprint-key-0123456789abcdef'),
});

export const principal = (subject: string, extra: Partial<Principal> = {}): Principal => ({
  issuer: TEST_ISSUER,
  subject,
  scopes: new Set(),
  isAdmin: false,
  isEmailVerifier: false,
  ...extra,
});
