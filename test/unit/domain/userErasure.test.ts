import { describe, it } from 'vitest';
import { userDecider, type UserCommand } from '#domain/userCommands';
import type { UserEvent } from '#domain/userEvents';
import { deciderSpecification } from '#test/support/deciderSpecification';

const spec = deciderSpecification(userDecider);
const userId = '0b7d5a1e-2c4f-4e8a-9b1d-3f6e8a2c4d10';
const now = new Date('2026-11-30T10:00:00.000Z');
const metadata = { now };

const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId, email: 'ada@example.com', displayName: 'Ada', registeredAt: '2026-11-01T00:00:00.000Z' },
};
const suspended: UserEvent = { type: 'UserSuspended', data: { userId, reason: 'spam', suspendedAt: '2026-11-02T00:00:00.000Z' } };
const erased: UserEvent = { type: 'UserErased', data: { userId, erasedAt: '2026-11-03T00:00:00.000Z' } };

const erase: UserCommand = { type: 'EraseUser', data: { userId }, metadata };
const everyOtherCommand: UserCommand[] = [
  { type: 'RegisterUser', data: { userId, email: 'ada@example.com', displayName: 'Ada' }, metadata },
  { type: 'ChangeEmail', data: { userId, email: 'new@example.com' }, metadata },
  { type: 'VerifyEmail', data: { userId, email: 'ada@example.com' }, metadata },
  { type: 'SuspendUser', data: { userId, reason: 'spam' }, metadata },
  { type: 'ReactivateUser', data: { userId }, metadata },
];

describe('user erasure', () => {
  describe('when registered', () => {
    it('erases, with no personal data in the event', () =>
      spec.given([registered]).when(erase).then([{ type: 'UserErased', data: { userId, erasedAt: now.toISOString() } }]));

    it('erases a suspended user too', () =>
      spec.given([registered, suspended]).when(erase).then([{ type: 'UserErased', data: { userId, erasedAt: now.toISOString() } }]));
  });

  describe('when not registered', () => {
    it('rejects the erasure as unknown', () => spec.given([]).when(erase).thenThrows('USER_NOT_FOUND'));
  });

  describe('when already erased', () => {
    it('decides nothing more (erasing again is idempotent)', () => spec.given([registered, erased]).when(erase).then([]));

    for (const command of everyOtherCommand) it(`refuses ${command.type} as gone`, () => spec.given([registered, erased]).when(command).thenThrows('USER_ERASED'));
  });
});
