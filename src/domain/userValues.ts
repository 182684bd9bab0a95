import { ValidationError } from './errors.ts';

export const EMAIL_MAX_LENGTH = 254;
export const DISPLAY_NAME_MAX_LENGTH = 100;
export const REASON_MAX_LENGTH = 500;

// Deliberately simple: one @, a dotted domain, no spaces. Deliverability is proven by verification.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/** Trimmed and lower-cased: the one form stored, compared and reserved. */
export const normalizeEmail = (raw: string, path = 'email'): string => {
  const email = raw.trim().toLowerCase();
  if (email.length === 0) throw new ValidationError(`${path} is required`, [{ path, message: 'must not be empty' }]);
  if (email.length > EMAIL_MAX_LENGTH)
    throw new ValidationError(`${path} is too long`, [{ path, message: `must be at most ${EMAIL_MAX_LENGTH} characters` }]);
  if (!EMAIL_PATTERN.test(email)) throw new ValidationError(`${path} is not a valid email address`, [{ path, message: 'must be an email address' }]);
  return email;
};

const boundedText = (raw: string, path: string, max: number): string => {
  const text = raw.trim();
  if (text.length === 0) throw new ValidationError(`${path} is required`, [{ path, message: 'must not be empty' }]);
  if (text.length > max) throw new ValidationError(`${path} is too long`, [{ path, message: `must be at most ${max} characters` }]);
  return text;
};

export const normalizeDisplayName = (raw: string): string => boundedText(raw, 'displayName', DISPLAY_NAME_MAX_LENGTH);
export const normalizeReason = (raw: string): string => boundedText(raw, 'reason', REASON_MAX_LENGTH);

export const userStreamId = (userId: string): string => `user-${userId}`;
export const USER_STREAM_PREFIX = 'user-';
export const userIdFromStreamId = (streamId: string): string => streamId.slice(USER_STREAM_PREFIX.length);
