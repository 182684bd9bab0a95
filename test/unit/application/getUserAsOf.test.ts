import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { getUserAsOf } from '#application/getUserAsOf';
import { handleUserCommand } from '#application/handleUserCommand';
import { isChronicleError } from '#domain/errors';
import { userStreamId } from '#domain/userValues';
import { changeEmail, freshEmail, freshOptions, register, reservationStreamOf, suspend, verifyEmail, keys } from './commandFixtures.ts';

/** Registered at 10:00, email changed at 11:00, verified at 12:00, suspended at 13:00 (the store's commit clock). */
const history = async () => {
  let time = Date.parse('2026-11-24T10:00:00Z');
  const eventStore = createMemoryEventStore({ clock: () => new Date(time) });
  const userId = randomUUID();
  const [email, newEmail] = [freshEmail(), freshEmail()];
  const commands = [register(userId, email), changeEmail(userId, newEmail), verifyEmail(userId, newEmail), suspend(userId)];
  for (const [hour, command] of commands.entries()) {
    time = Date.parse('2026-11-24T10:00:00Z') + hour * 3_600_000;
    await handleUserCommand({ eventStore, reservationStreamOf, keys, maxAttempts: 3 }, command, freshOptions());
  }
  return { eventStore, userId, email, newEmail };
};

const codeOf = (error: unknown) => (isChronicleError(error) ? error.code : error);

describe('the user as it was', () => {
  describe('at an instant (the event store’s commit time)', () => {
    it('folds the stream up to the last event recorded at or before it', async () => {
      const { eventStore, userId, newEmail } = await history();
      const { user, asOf } = await getUserAsOf({ eventStore, keys }, userId, { asOf: new Date('2026-11-24T11:30:00Z') });
      expect(user).toMatchObject({ id: userId, email: newEmail, emailVerified: false, status: 'active', revision: 1n });
      expect(asOf.toISOString()).toBe('2026-11-24T11:30:00.000Z');
    });

    it('includes an event recorded exactly at the instant', async () => {
      const { eventStore, userId } = await history();
      const { user } = await getUserAsOf({ eventStore, keys }, userId, { asOf: new Date('2026-11-24T12:00:00Z') });
      expect(user).toMatchObject({ emailVerified: true, revision: 2n });
    });

    it('answers the latest state for an instant after the last event', async () => {
      const { eventStore, userId } = await history();
      const { user } = await getUserAsOf({ eventStore, keys }, userId, { asOf: new Date('2030-01-01T00:00:00Z') });
      expect(user).toMatchObject({ status: 'suspended', revision: 3n });
    });

    it('answers USER_NOT_FOUND before the registration and for an unknown user', async () => {
      const { eventStore, userId } = await history();
      expect(codeOf(await getUserAsOf({ eventStore, keys }, userId, { asOf: new Date('2026-11-24T09:59:59.999Z') }).catch((e: unknown) => e))).toBe('USER_NOT_FOUND');
      expect(codeOf(await getUserAsOf({ eventStore, keys }, randomUUID(), { asOf: new Date() }).catch((e: unknown) => e))).toBe('USER_NOT_FOUND');
    });
  });

  describe('at a revision', () => {
    it('folds the stream up to and including it, answering that event’s commit time', async () => {
      const { eventStore, userId, email } = await history();
      const { user, asOf } = await getUserAsOf({ eventStore, keys }, userId, { atRevision: 0n });
      expect(user).toMatchObject({ email, status: 'active', revision: 0n });
      expect(asOf.toISOString()).toBe('2026-11-24T10:00:00.000Z');
    });

    it('answers REVISION_NOT_FOUND past the end, USER_NOT_FOUND for an unknown user', async () => {
      const { eventStore, userId } = await history();
      expect(codeOf(await getUserAsOf({ eventStore, keys }, userId, { atRevision: 4n }).catch((e: unknown) => e))).toBe('REVISION_NOT_FOUND');
      expect(codeOf(await getUserAsOf({ eventStore, keys }, randomUUID(), { atRevision: 0n }).catch((e: unknown) => e))).toBe('USER_NOT_FOUND');
    });

    it('folds a stream longer than one read page', async () => {
      const eventStore = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand({ eventStore, reservationStreamOf, keys, maxAttempts: 3 }, register(userId, freshEmail()), freshOptions());
      const emails = Array.from({ length: 1_200 }, freshEmail);
      const metadata = { schemaVersion: 2, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: '2026-11-24T10:00:00Z' };
      const changes = emails.map((address) => ({
        id: randomUUID(),
        type: 'EmailChanged',
        data: { userId, email: address, changedAt: '2026-11-24T10:00:00Z', verified: false },
        metadata,
      }));
      await eventStore.appendToStream(userStreamId(userId), changes, { expectedRevision: 0n });
      const email = emails.at(-1);
      const { user } = await getUserAsOf({ eventStore, keys }, userId, { atRevision: 1_200n });
      expect(user).toMatchObject({ email, revision: 1_200n });
    });
  });
});
