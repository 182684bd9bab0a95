import * as z from 'zod';

/**
 * Request shapes. Types and presence are checked here; formats and bounds of the values
 * themselves (email syntax, name length) are the domain's rules and answer 400 from there.
 */
export const userPath = z.object({ id: z.uuid({ message: 'must be a UUID' }) });

// Strict: a field we do not know is refused (a typo, or a try at setting what callers must not).
export const registerUserBody = z.strictObject({ email: z.string(), displayName: z.string() });
export const changeEmailBody = z.strictObject({ email: z.string() });
export const verifyEmailBody = z.strictObject({ email: z.string() });
export const suspendUserBody = z.strictObject({ reason: z.string() });
export const reactivateUserBody = z.strictObject({});

// RFC 3339: a date, a time and an offset (Z or ±hh:mm); a local time without offset names no instant.
const instant = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 date-time with an offset, e.g. 2026-11-27T10:00:00Z' })
  .transform((text) => new Date(text));

const MAX_REVISION = 9_223_372_036_854_775_807n;
const revision = z
  .string()
  .regex(/^\d{1,19}$/, { message: 'must be a non-negative whole number' })
  .transform((text) => BigInt(text))
  .refine((value) => value <= MAX_REVISION, { message: 'must be a 64-bit revision' });

export const getUserQuery = z
  .object({ consistentWith: z.string().optional(), asOf: instant.optional(), atRevision: revision.optional() })
  .refine((query) => query.asOf === undefined || query.atRevision === undefined, { message: 'give asOf or atRevision, not both', path: ['asOf'] });

export const HISTORY_LIMIT_MAX = 1_000;

export const userEventsQuery = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, { message: `must be a whole number from 1 to ${HISTORY_LIMIT_MAX}` })
    .transform(Number)
    .pipe(z.number().int().min(1, { message: 'must be at least 1' }).max(HISTORY_LIMIT_MAX, { message: `must be at most ${HISTORY_LIMIT_MAX}` }))
    .optional(),
  cursor: z.string().min(1).max(512).optional(),
  from: instant.optional(),
  to: instant.optional(),
});

export const listUsersQuery = z.object({
  status: z.enum(['active', 'suspended']).optional(),
  cursor: z.string().min(1).max(512).optional(),
  limit: z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number from 1 to 100' })
    .transform(Number)
    .pipe(z.number().int().min(1, { message: 'must be at least 1' }).max(100, { message: 'must be at most 100' }))
    .optional()
    .transform((limit) => limit ?? 20),
  consistentWith: z.string().optional(),
});
