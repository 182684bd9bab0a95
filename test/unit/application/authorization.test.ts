import { describe, expect, it } from 'vitest';
import { authorize, verificationGuard, type AccessRule } from '#application/authorization';
import { userIdOfPrincipal } from '#application/principal';
import { isChronicleError } from '#domain/errors';
import type { UserState } from '#domain/userState';
import { principal } from '#test/support/testIdentity';

const alice = principal('alice');
const aliceId = userIdOfPrincipal(alice);
const bob = principal('bob');
const admin = principal('root', { isAdmin: true });
const mailer = principal('mail-service', { isEmailVerifier: true });

const outcome = (run: () => void): string => {
  try {
    run();
    return 'allowed';
  } catch (error) {
    return isChronicleError(error) ? error.code : String(error);
  }
};
const judge = (who: typeof alice, rule: AccessRule, targetUserId?: string) =>
  outcome(() => authorize({ principal: who, rule, ...(targetUserId === undefined ? {} : { targetUserId }) }));

describe('access', () => {
  it('lets anyone authenticated register, and an admin register others', () => {
    expect([judge(alice, 'self-or-admin-registration'), judge(admin, 'self-or-admin-registration')]).toEqual(['allowed', 'allowed']);
  });

  describe('on an owner-or-admin route', () => {
    it('lets the owner in', () => expect(judge(alice, 'owner-or-admin', aliceId)).toBe('allowed'));
    it('lets an admin in on anyone', () => expect(judge(admin, 'owner-or-admin', aliceId)).toBe('allowed'));
    it('answers another user exactly as an unknown account (no existence oracle)', () => expect(judge(bob, 'owner-or-admin', aliceId)).toBe('USER_NOT_FOUND'));
    it('does not let the verifier scope in', () => expect(judge(mailer, 'owner-or-admin', aliceId)).toBe('USER_NOT_FOUND'));
  });

  describe('on an admin route', () => {
    it('refuses a user with 403', () => expect(judge(alice, 'admin', aliceId)).toBe('FORBIDDEN'));
    it('refuses the verifier scope with 403', () => expect(judge(mailer, 'admin')).toBe('FORBIDDEN'));
    it('lets an admin in', () => expect(judge(admin, 'admin')).toBe('allowed'));
  });

  describe('on email verification', () => {
    const account: UserState = { status: 'active', userId: aliceId, email: 'ada@example.com', emailVerified: false, displayName: 'Ada', registeredAt: '2026-01-01T00:00:00.000Z' };
    const guard = (who: typeof alice, email = 'ada@example.com') => outcome(() => verificationGuard(who, email)(account));

    it('lets the owner, an admin and the verifier scope reach the account', () => {
      expect([judge(alice, 'email-verification', aliceId), judge(admin, 'email-verification', aliceId), judge(mailer, 'email-verification', aliceId)]).toEqual([
        'allowed',
        'allowed',
        'allowed',
      ]);
      expect(judge(bob, 'email-verification', aliceId)).toBe('USER_NOT_FOUND');
    });

    it('refuses the owner whose token proves no mailbox (a body alone proves nothing)', () => expect(guard(alice)).toBe('FORBIDDEN'));
    it('refuses the owner whose token proves another mailbox', () => expect(guard(principal('alice', { verifiedEmail: 'other@example.com' }))).toBe('FORBIDDEN'));
    it('lets the owner verify the mailbox the token proves, in any spelling of it', () =>
      expect(guard(principal('alice', { verifiedEmail: 'ada@example.com' }), 'ADA@example.com')).toBe('allowed'));
    it('trusts admins and the verifier scope to have done their own proof', () => expect([guard(admin), guard(mailer)]).toEqual(['allowed', 'allowed']));
  });
});
