import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

/**
 * Random IVs cut from a pool refilled from the CSPRNG, because `randomBytes(12)` costs about as
 * much as the AES-GCM operation it feeds (a call into the native layer and an allocation per IV).
 * Each IV is still 96 fresh random bits, never handed out twice: the pool is refilled, not reused.
 * The returned buffer is a view that the next refill overwrites, so callers use it at once
 * (createCipheriv copies it) or copy it into their output.
 */
export const createRandomIvs = (ivBytes: number): (() => Buffer) => {
  const pool = Buffer.allocUnsafeSlow(POOL_BYTES - (POOL_BYTES % ivBytes));
  let at = pool.length;
  return () => {
    if (at === pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    const iv = pool.subarray(at, at + ivBytes);
    at += ivBytes;
    return iv;
  };
};
