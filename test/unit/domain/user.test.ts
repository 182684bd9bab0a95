import { describe, it } from 'vitest';
import { userDecider, type UserCommand } from '#domain/userCommands';
import type { UserEvent } from '#domain/userEvents';
import { DISPLAY_NAME_MAX_LENGTH, REASON_MAX_LENGTH } from '#domain/userValues';
import { deciderSpecification } from '#test/support/deciderSpecification';

const spec = deciderSpecification(userDecider);
const userId = '6f1c1f3e-3a43-4b8e-9d61-2f1f0a7c1b11';
const now = new Date('2026-11-27T10:00:00.000Z');
const at = now.toISOString();
const metadata = { now };

const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId, email: 'ada@example.com', displayName: 'Ada', registeredAt: '2026-11-01T00:00:00.000Z' },
};
const suspended: UserEvent = { type: 'UserSuspended', data: { userId, reason: 'spam', suspendedAt: '2026-11-02T00:00:00.000Z' } };
const reactivated: UserEvent = { type: 'UserReactivated', data: { userId, reactivatedAt: '2026-11-03T00:00:00.000Z' } };
const verified: UserEvent = { type: 'EmailVerified', data: { userId, email: 'ada@example.com', verifiedAt: '2026-11-02T00:00:00.000Z' } };

const register = (email: string, displayName = 'Ada'): UserCommand => ({ type: 'RegisterUser', data: { userId, email, displayName }, metadata });
const changeEmail = (email: string): UserCommand => ({ type: 'ChangeEmail', data: { userId, email }, metadata });
const verifyEmail = (email: string): UserCommand => ({ type: 'VerifyEmail', data: { userId, email }, metadata });
const suspend = (reason: string): UserCommand => ({ type: 'SuspendUser', data: { userId, reason }, metadata });
const reactivate: UserCommand = { type: 'ReactivateUser', data: { userId }, metadata };

describe('user', () => {
  describe('when not registered', () => {
    it('registers with a trimmed, lower-cased email and a trimmed display name', () =>
      spec
        .given([])
        .when(register('  Ada@Example.COM ', '  Ada Lovelace '))
        .then([{ type: 'UserRegistered', data: { userId, email: 'ada@example.com', displayName: 'Ada Lovelace', registeredAt: at } }]));

    it('rejects an invalid email', () => spec.given([]).when(register('not-an-email')).thenThrows('VALIDATION_FAILED'));
    it('rejects an email without a dotted domain', () => spec.given([]).when(register('ada@localhost')).thenThrows('VALIDATION_FAILED'));
    it('rejects an email longer than 254 characters', () =>
      spec.given([]).when(register(`${'a'.repeat(250)}@example.com`)).thenThrows('VALIDATION_FAILED'));
    it('rejects an empty display name', () => spec.given([]).when(register('ada@example.com', '   ')).thenThrows('VALIDATION_FAILED'));
    it('rejects a display name over the length bound', () =>
      spec.given([]).when(register('ada@example.com', 'x'.repeat(DISPLAY_NAME_MAX_LENGTH + 1))).thenThrows('VALIDATION_FAILED'));
    it('rejects every other command as an unknown user', () => {
      spec.given([]).when(changeEmail('new@example.com')).thenThrows('USER_NOT_FOUND');
      spec.given([]).when(verifyEmail('ada@example.com')).thenThrows('USER_NOT_FOUND');
      spec.given([]).when(suspend('spam')).thenThrows('USER_NOT_FOUND');
      spec.given([]).when(reactivate).thenThrows('USER_NOT_FOUND');
    });
  });

  describe('when registered', () => {
    it('refuses a second registration', () => spec.given([registered]).when(register('other@example.com')).thenThrows('USER_ALREADY_REGISTERED'));

    it('changes the email to a normalised new address, unverified', () =>
      spec
        .given([registered])
        .when(changeEmail(' New@Example.com'))
        .then([{ type: 'EmailChanged', data: { userId, email: 'new@example.com', changedAt: at, verified: false } }]));

    it('rejects a change to the current email', () => spec.given([registered]).when(changeEmail('ADA@example.com')).thenThrows('EMAIL_UNCHANGED'));
    it('rejects a change to an invalid email', () => spec.given([registered]).when(changeEmail('nope')).thenThrows('VALIDATION_FAILED'));

    it('verifies the current email', () =>
      spec
        .given([registered])
        .when(verifyEmail('Ada@Example.com'))
        .then([{ type: 'EmailVerified', data: { userId, email: 'ada@example.com', verifiedAt: at } }]));

    it('refuses to verify an email that is not the current one', () =>
      spec.given([registered]).when(verifyEmail('someone@example.com')).thenThrows('EMAIL_NOT_CURRENT'));

    it('refuses to verify a previous email after a change', () =>
      spec
        .given([registered, { type: 'EmailChanged', data: { userId, email: 'new@example.com', changedAt: at, verified: false } }])
        .when(verifyEmail('ada@example.com'))
        .thenThrows('EMAIL_NOT_CURRENT'));

    it('refuses to verify twice', () => spec.given([registered, verified]).when(verifyEmail('ada@example.com')).thenThrows('EMAIL_ALREADY_VERIFIED'));

    it('needs a new verification after an email change', () =>
      spec
        .given([registered, verified, { type: 'EmailChanged', data: { userId, email: 'new@example.com', changedAt: at, verified: false } }])
        .when(verifyEmail('new@example.com'))
        .then([{ type: 'EmailVerified', data: { userId, email: 'new@example.com', verifiedAt: at } }]));

    it('suspends with a trimmed reason', () =>
      spec.given([registered]).when(suspend('  spam ')).then([{ type: 'UserSuspended', data: { userId, reason: 'spam', suspendedAt: at } }]));

    it('rejects an empty reason', () => spec.given([registered]).when(suspend(' ')).thenThrows('VALIDATION_FAILED'));
    it('rejects a reason over the length bound', () =>
      spec.given([registered]).when(suspend('x'.repeat(REASON_MAX_LENGTH + 1))).thenThrows('VALIDATION_FAILED'));
    it('refuses to reactivate an active user', () => spec.given([registered]).when(reactivate).thenThrows('USER_NOT_SUSPENDED'));
  });

  describe('when suspended', () => {
    it('reactivates', () => spec.given([registered, suspended]).when(reactivate).then([{ type: 'UserReactivated', data: { userId, reactivatedAt: at } }]));
    it('rejects an email change', () => spec.given([registered, suspended]).when(changeEmail('new@example.com')).thenThrows('USER_SUSPENDED'));
    it('rejects an email verification', () => spec.given([registered, suspended]).when(verifyEmail('ada@example.com')).thenThrows('USER_SUSPENDED'));
    it('refuses a second suspension', () => spec.given([registered, suspended]).when(suspend('again')).thenThrows('USER_ALREADY_SUSPENDED'));
    it('refuses a second registration', () => spec.given([registered, suspended]).when(register('ada@example.com')).thenThrows('USER_ALREADY_REGISTERED'));
  });

  describe('when reactivated', () => {
    it('accepts commands again', () =>
      spec
        .given([registered, suspended, reactivated])
        .when(changeEmail('new@example.com'))
        .then([{ type: 'EmailChanged', data: { userId, email: 'new@example.com', changedAt: at, verified: false } }]));
    it('can be suspended again', () =>
      spec.given([registered, suspended, reactivated]).when(suspend('again')).then([{ type: 'UserSuspended', data: { userId, reason: 'again', suspendedAt: at } }]));
  });
});
