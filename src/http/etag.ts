import { ValidationError } from '#domain/errors';

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
  if (match?.[1] === undefined)
    throw new ValidationError('If-Match must be one entity tag such as "3"', [{ path: 'If-Match', message: 'must be a quoted stream revision like "3"' }]);
  return BigInt(match[1]);
};

/** A consistency token (a global position) from a header or the query string. */
export const parseConsistencyToken = (raw: string | undefined, path: string): bigint | undefined => {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d{1,20}$/.test(raw.trim())) throw new ValidationError(`${path} must be a consistency token from a command's answer`, [{ path, message: 'must be a decimal number' }]);
  return BigInt(raw.trim());
};
