import { z } from 'zod';

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

export const getUserQuery = z.object({ consistentWith: z.string().optional() });

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
