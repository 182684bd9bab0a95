import { ValidationError } from '#domain/errors';

/**
 * Paging order of users, the same in every read-model adapter: registration time, ties
 * broken by id, as one fixed-width string (15-digit milliseconds, then the id) so that it
 * sorts as text. Times before 1970 or unparsable sort first. A cursor is the last order key
 * of a page — a place in a fixed order, not an offset — so pages never repeat or skip a user
 * while others register.
 */
export const orderKeyOf = (registeredAt: string, id: string): string => {
  const ms = Date.parse(registeredAt);
  const clamped = Number.isFinite(ms) && ms > 0 ? ms : 0;
  return `${String(clamped).padStart(15, '0')}:${id}`;
};

/** Opaque to callers. */
export const encodeCursor = (orderKey: string): string => Buffer.from(orderKey, 'utf8').toString('base64url');

export const decodeCursor = (cursor: string): string => {
  const orderKey = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{15}:.+$/s.test(orderKey)) throw new ValidationError('cursor is not one this service issued', [{ path: 'cursor', message: 'invalid cursor' }]);
  return orderKey;
};

export const assertLimit = (limit: number): void => {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('limit must be a whole number of at least 1', [{ path: 'limit', message: 'invalid limit' }]);
};
