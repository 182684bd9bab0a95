import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '#domain/errors';

/** Global positions are unsigned 64-bit: anything larger is no token this service issued. */
export const MAX_UINT64 = 2n ** 64n - 1n;

const POSITION_BYTES = 8;
const MAC_BYTES = 16;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/**
 * Consistency tokens are opaque and tamper-proof: the position a command reached, with an
 * HMAC under a server key. A forged far-future token cannot make a query wait, and callers
 * cannot build tokens from positions they merely guessed. The first key signs; every key
 * verifies, so a key can be rotated without refusing the tokens already handed out.
 */
export interface ConsistencyTokens {
  issue(position: bigint): string;
  /** The position inside `raw`, undefined when absent; ValidationError (naming `path`) when malformed or forged. */
  parse(raw: string | undefined, path: string): bigint | undefined;
}

const macOf = (key: string, positionBytes: Buffer): Buffer =>
  createHmac('sha256', key).update('chronicle-consistency-token/v1\n').update(positionBytes).digest().subarray(0, MAC_BYTES);

export const createConsistencyTokens = (keys: readonly string[]): ConsistencyTokens => {
  const [signingKey] = keys;
  if (signingKey === undefined) throw new Error('consistency tokens need at least one key');
  const refuse = (path: string): never => {
    throw new ValidationError(`${path} must be a consistency token from a command's answer`, [{ path, message: 'not a token this service issued' }]);
  };
  return {
    issue(position) {
      const positionBytes = Buffer.alloc(POSITION_BYTES);
      positionBytes.writeBigUInt64BE(position);
      return Buffer.concat([positionBytes, macOf(signingKey, positionBytes)]).toString('base64url');
    },
    parse(raw, path) {
      const text = raw?.trim();
      if (text === undefined || text === '') return undefined;
      if (!TOKEN_PATTERN.test(text)) return refuse(path);
      const bytes = Buffer.from(text, 'base64url');
      const positionBytes = bytes.subarray(0, POSITION_BYTES);
      const mac = bytes.subarray(POSITION_BYTES);
      if (mac.length !== MAC_BYTES || !keys.some((key) => timingSafeEqual(macOf(key, positionBytes), mac))) return refuse(path);
      return positionBytes.readBigUInt64BE();
    },
  };
};

/** The position a query must include: the X-Consistency-Token header, else `?consistentWith=`. */
export const consistencyTokenOf = (
  tokens: ConsistencyTokens,
  request: { header(name: string): string | undefined; readonly query: { readonly consistentWith?: string | undefined } },
): bigint | undefined =>
  tokens.parse(request.header('x-consistency-token'), 'X-Consistency-Token') ?? tokens.parse(request.query.consistentWith, 'consistentWith');
