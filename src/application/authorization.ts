import { ForbiddenError, NotFoundError } from '#domain/errors';
import { isRegistered, type UserState } from '#domain/userState';
import { normalizeEmail } from '#domain/userValues';
import { userIdOfPrincipal, type Principal } from './principal.ts';

/**
 * Who may do what (README § Access), decided here and nowhere else:
 * - `self-or-admin-registration`: anyone authenticated registers their own account; an admin may register others
 * - `owner-or-admin`: the account's owner, or an admin
 * - `email-verification`: an admin, a caller with the verifier scope, or the owner whose token proves the mailbox
 * - `admin`: admins only
 */
export type AccessRule = 'self-or-admin-registration' | 'owner-or-admin' | 'email-verification' | 'admin';

/** What a route rule is judged on: the caller, and the account the path names (when it names one). */
export interface AccessRequest {
  readonly principal: Principal;
  readonly rule: AccessRule;
  readonly targetUserId?: string;
}

export const isOwner = (principal: Principal, userId: string): boolean => userIdOfPrincipal(principal) === userId;

/**
 * Someone else's account answers exactly as an account that does not exist, so the API is no
 * oracle of which ids are taken.
 */
const notFoundFor = (userId: string): NotFoundError => new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, { userId });

/** Throws ForbiddenError (role too weak) or NotFoundError (not the caller's account); returns when allowed. */
export const authorize = ({ principal, rule, targetUserId }: AccessRequest): void => {
  if (principal.isAdmin) return;
  switch (rule) {
    case 'self-or-admin-registration':
      return;
    case 'admin':
      throw new ForbiddenError('this operation needs the administrator scope', { requiredScope: 'admin' });
    case 'owner-or-admin':
    case 'email-verification':
      if (targetUserId === undefined) throw new ForbiddenError('this operation needs the administrator scope', { requiredScope: 'admin' });
      if (rule === 'email-verification' && principal.isEmailVerifier) return;
      if (!isOwner(principal, targetUserId)) throw notFoundFor(targetUserId);
      return;
  }
};

/**
 * Verification by the owner alone: a body naming an address proves nothing, so the owner's
 * token must carry that very mailbox as verified by the identity provider. Admins and the
 * verifier scope are trusted to have done their own proof. Runs on the loaded account, before
 * the decision, on every attempt.
 */
export const verificationGuard =
  (principal: Principal, email: string) =>
  (state: UserState): void => {
    if (principal.isAdmin || principal.isEmailVerifier || !isRegistered(state)) return;
    if (principal.verifiedEmail === undefined)
      throw new ForbiddenError('verifying an email needs a token whose email claim is verified by the identity provider', { requiredClaim: 'email_verified' });
    if (principal.verifiedEmail !== state.email || normalizeEmail(email) !== state.email)
      throw new ForbiddenError('the token proves another mailbox than the account’s current email', { requiredClaim: 'email' });
  };
