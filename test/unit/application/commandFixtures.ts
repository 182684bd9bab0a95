import { randomUUID } from 'node:crypto';
import type { UserCommand } from '#domain/userCommands';
import type { EventStore } from '#ports/eventStore';
import type { CommandOptions } from '#application/commandOptions';
import { createReservationStreamNaming } from '#application/emailReservations';
import { memoryUserKeys } from '#test/support/memoryUserKeys';

export const now = new Date('2026-11-27T10:00:00.000Z');

export const register = (userId: string, email: string, displayName = 'Ada Lovelace'): UserCommand => ({
  type: 'RegisterUser',
  data: { userId, email, displayName },
  metadata: { now },
});
export const changeEmail = (userId: string, email: string): UserCommand => ({ type: 'ChangeEmail', data: { userId, email }, metadata: { now } });
export const verifyEmail = (userId: string, email: string): UserCommand => ({ type: 'VerifyEmail', data: { userId, email }, metadata: { now } });
export const suspend = (userId: string, reason = 'abuse report'): UserCommand => ({ type: 'SuspendUser', data: { userId, reason }, metadata: { now } });
export const reactivate = (userId: string): UserCommand => ({ type: 'ReactivateUser', data: { userId }, metadata: { now } });

export const freshOptions = (overrides: Partial<CommandOptions> = {}): CommandOptions => ({
  commandId: randomUUID(),
  correlationId: randomUUID(),
  ...overrides,
});

/** A unique address per test, so reservations never collide across tests. */
export const freshEmail = (): string => `user-${randomUUID().slice(0, 8)}@example.com`;

/**
 * An event store that lets a test step in just before an append to a matching stream — to
 * play a concurrent writer, or to make the append fail.
 */
export const interceptAppends = (
  inner: EventStore,
  matches: (streamId: string) => boolean,
  before: (attempt: number) => Promise<void>,
): EventStore & { readonly attempts: () => number } => {
  let attempts = 0;
  return {
    ...inner,
    appendToStream: async (streamId, events, options) => {
      if (matches(streamId)) await before(++attempts);
      return inner.appendToStream(streamId, events, options);
    },
    readStream: (streamId, options) => inner.readStream(streamId, options),
    readAll: (options) => inner.readAll(options),
    headPosition: () => inner.headPosition(),
    close: () => inner.close(),
    attempts: () => attempts,
  };
};

export const isUserStream = (streamId: string): boolean => streamId.startsWith('user-');

/** Reservation stream names under a fixed test key (production keys come from configuration). */
export const reservationStreamOf = createReservationStreamNaming('test-email-reservation-key-0123456789abcdef');

/** Users' data keys shared by a file's commands and reads (the real cipher over the in-memory key store). */
export const keys = memoryUserKeys();
