import { ValidationError } from '#domain/errors';
import { MAX_UINT64 } from './consistencyToken.ts';

/** A stream revision as an entity tag. */
export const formatEtag = (revision: bigint): string => `"${revision}"`;

const ENTITY_TAG = /^(?:W\/)?"(\d{1,20})"$/;

/**
 * If-Match → the revision the caller saw. Weak and strong tags both name a revision; `*` (any
 * current version) pins nothing. Anything else is a client error, never a silent "no pin".
 */
export const parseIfMatch = (header: string | undefined): bigint | undefined => {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return undefined;
  const match = ENTITY_TAG.exec(value);
  const revision = match?.[1] === undefined ? null : BigInt(match[1]);
  if (revision === null || revision > MAX_UINT64)
    throw new ValidationError('If-Match must be one entity tag such as "3"', [{ path: 'If-Match', message: 'must be a quoted stream revision like "3"' }]);
  return revision;
};
