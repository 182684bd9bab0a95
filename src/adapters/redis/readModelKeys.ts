import { ValidationError } from '#domain/errors';
import type { UserStatus } from '#domain/userState';

/**
 * The key layout of one read-model version (README.md in this folder). The apply-batch script
 * builds the same names from the prefix; keep the two in step.
 */
export interface ReadModelKeys {
  readonly prefix: string;
  user(userId: string): string;
  /** Set of user ids with this status (`users:active` is the product brief's `active_users`). */
  statusSet(status: UserStatus): string;
  /**
   * Sorted set of the order keys of the users with this status, all scored 0 so that members
   * sort (and page) lexicographically. Listing every user merges the per-status sets.
   */
  statusRegistrationOrder(status: UserStatus): string;
  readonly emailIndex: string;
  readonly applied: string;
  readonly checkpoint: string;
}

export const readModelKeys = (version: number): ReadModelKeys => {
  if (!Number.isSafeInteger(version) || version < 1) throw new ValidationError(`read-model version must be a positive whole number, got ${version}`);
  const prefix = `rm:v${version}:`;
  return {
    prefix,
    user: (userId) => `${prefix}user:${userId}`,
    statusSet: (status) => `${prefix}users:${status}`,
    statusRegistrationOrder: (status) => `${prefix}users:${status}:by-registration`,
    emailIndex: `${prefix}users:by-email`,
    applied: `${prefix}applied`,
    checkpoint: `${prefix}checkpoint`,
  };
};

/**
 * Paging order: registration time, ties broken by id, as one fixed-width string (15-digit
 * milliseconds, then the id) so that it sorts as text. The same key as the SQLite and memory
 * adapters; times before 1970 or unparsable sort first.
 */
export const orderKeyOf = (registeredAt: string, id: string): string => {
  const ms = Date.parse(registeredAt);
  const clamped = Number.isFinite(ms) && ms > 0 ? ms : 0;
  return `${String(clamped).padStart(15, '0')}:${id}`;
};

/** The cursor is the last order key of a page, opaque to callers. */
export const encodeCursor = (orderKey: string): string => Buffer.from(orderKey, 'utf8').toString('base64url');

export const decodeCursor = (cursor: string): string => {
  const orderKey = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{15}:.+$/s.test(orderKey)) throw new ValidationError('cursor is not one this service issued', [{ path: 'cursor', message: 'invalid cursor' }]);
  return orderKey;
};
