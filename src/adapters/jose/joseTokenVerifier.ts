import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { UnauthenticatedError, UnavailableError } from '#domain/errors';
import { normalizeEmail } from '#domain/userValues';
import type { Principal, TokenVerifier } from '#ports/tokenVerifier';

/**
 * Asymmetric algorithms only. HMAC is refused so a public key can never be used as a shared
 * secret, and `none` is never accepted (jose refuses it for any key set anyway).
 */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export interface JoseTokenVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /**
   * Where the issuer publishes its keys; fetched on first use, cached, refetched on an unknown
   * `kid` (rate-limited by jose). Neither this nor `jwks`: the issuer's OpenID discovery
   * document names it.
   */
  readonly jwksUrl?: string;
  /** Keys given directly (tests, or a JWKS pinned through configuration). */
  readonly jwks?: JSONWebKeySet;
  readonly clockSkewSeconds: number;
  readonly adminScope: string;
  readonly verifierScope: string;
  /** Told why a token was refused, for the log only: the caller never learns which check failed. */
  readonly onRejected?: (reason: string) => void;
}

const scopesOf = (payload: JWTPayload): Set<string> => {
  const scope = payload['scope'];
  const scp = payload['scp'];
  if (typeof scope === 'string') return new Set(scope.split(' ').filter((s) => s !== ''));
  if (Array.isArray(scp)) return new Set(scp.filter((s): s is string => typeof s === 'string'));
  return new Set();
};

/** The identity provider proved the mailbox: `email` and `email_verified: true` together, in canonical form. */
const verifiedEmailOf = (payload: JWTPayload): string | undefined => {
  const email = payload['email'];
  if (payload['email_verified'] !== true || typeof email !== 'string') return undefined;
  try {
    return normalizeEmail(email);
  } catch {
    return undefined;
  }
};

// Subjects and issuers land in event metadata and logs: bounded, printable, no tricks.
const SAFE_CLAIM = /^[\x21-\x7e]{1,255}$/;

const isKeyFetchFailure = (error: unknown): boolean =>
  (error instanceof TypeError && error.message === 'fetch failed') ||
  (error instanceof Error && ((error as { code?: string }).code === 'ERR_JWKS_TIMEOUT' || /JSON Web Key Set HTTP response/.test(error.message)));

/** The `jwks_uri` of the issuer's OpenID Connect discovery document. */
const discoverJwksUrl = async (issuer: string): Promise<string> => {
  const response = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(3_000) });
  if (!response.ok) throw new Error(`OpenID discovery answered ${response.status}`);
  const document = (await response.json()) as { jwks_uri?: unknown };
  if (typeof document.jwks_uri !== 'string') throw new Error('the OpenID discovery document names no jwks_uri');
  return document.jwks_uri;
};

/** JWT bearer tokens checked with jose against the issuer's JWKS: signature, iss, aud, exp, nbf. */
export const createJoseTokenVerifier = (options: JoseTokenVerifierOptions): TokenVerifier => {
  const remote = (url: string) => createRemoteJWKSet(new URL(url), { timeoutDuration: 3_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  let keys: Promise<JWTVerifyGetKey> | null =
    options.jwks !== undefined
      ? Promise.resolve(createLocalJWKSet(options.jwks))
      : options.jwksUrl !== undefined
        ? Promise.resolve(remote(options.jwksUrl))
        : null;
  // Discovery runs on first use; a failed one is forgotten, so the next request tries again.
  const keySet = (): Promise<JWTVerifyGetKey> => {
    keys ??= discoverJwksUrl(options.issuer)
      .then(remote)
      .catch((error: unknown) => {
        keys = null;
        throw error;
      });
    return keys;
  };
  return {
    async verify(token) {
      let getKey: JWTVerifyGetKey;
      try {
        getKey = await keySet();
      } catch (error) {
        options.onRejected?.(`issuer keys unavailable: ${String(error)}`);
        throw new UnavailableError('the token issuer’s keys could not be fetched');
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: [...ALLOWED_ALGORITHMS],
          clockTolerance: options.clockSkewSeconds,
          requiredClaims: ['iss', 'sub', 'aud', 'exp'],
        }));
      } catch (error) {
        options.onRejected?.(error instanceof Error ? `${error.name}: ${(error as { code?: string }).code ?? error.message}` : 'unknown');
        // The issuer's key endpoint failing is our outage, not the caller's bad token.
        if (isKeyFetchFailure(error)) throw new UnavailableError('the token issuer’s keys could not be fetched');
        throw new UnauthenticatedError('invalid_token');
      }
      const { iss, sub } = payload;
      if (typeof iss !== 'string' || typeof sub !== 'string' || !SAFE_CLAIM.test(sub) || !SAFE_CLAIM.test(iss)) {
        options.onRejected?.('subject or issuer of an unsafe shape');
        throw new UnauthenticatedError('invalid_token');
      }
      const scopes = scopesOf(payload);
      const verifiedEmail = verifiedEmailOf(payload);
      const principal: Principal = {
        issuer: iss,
        subject: sub,
        scopes,
        isAdmin: scopes.has(options.adminScope),
        isEmailVerifier: scopes.has(options.verifierScope),
        ...(verifiedEmail === undefined ? {} : { verifiedEmail }),
      };
      return principal;
    },
  };
};
