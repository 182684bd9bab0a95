import { PreconditionFailedError, ValidationError } from '#domain/errors';
import { MAX_UINT64 } from './consistencyToken.ts';

/** A stream revision as a strong entity tag. */
export const formatEtag = (revision: bigint): string => `"${revision}"`;

const STRONG_TAG = /^"(\d{1,20})"$/;
const WEAK_TAG = /^W\/"[^"]*"$/;

/**
 * If-Match → the revision the caller saw. If-Match uses strong comparison (RFC 9110 § 13.1.1),
 * so a weak tag never matches anything: 412, nothing written. `*` (any current version) pins
 * nothing. Anything else is a client error, never a silent "no pin".
 */
export const parseIfMatch = (header: string | undefined): bigint | undefined => {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return undefined;
  if (WEAK_TAG.test(value)) throw new PreconditionFailedError('If-Match uses strong comparison: a weak entity tag never matches', { ifMatch: 'weak' });
  const match = STRONG_TAG.exec(value);
  const revision = match?.[1] === undefined ? null : BigInt(match[1]);
  if (revision === null || revision > MAX_UINT64)
    throw new ValidationError('If-Match must be one entity tag such as "3"', [{ path: 'If-Match', message: 'must be a quoted stream revision like "3"' }]);
  return revision;
};
