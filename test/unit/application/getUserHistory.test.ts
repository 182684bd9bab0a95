import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { getUserHistory } from '#application/getUserHistory';
import { handleUserCommand } from '#application/handleUserCommand';
import { isChronicleError } from '#domain/errors';
import { userStreamId } from '#domain/userValues';
import { freshEmail, freshOptions, now, register, reservationStreamOf, suspend, keys } from './commandFixtures.ts';

describe('user history', () => {
  it('lists every event oldest first with type, schema version, revision, position, time, data and metadata', async () => {
    const eventStore = createMemoryEventStore();
    const userId = randomUUID();
    const options = freshOptions();
    await handleUserCommand({ eventStore, reservationStreamOf, keys, maxAttempts: 3 }, register(userId, freshEmail()), options);
    await handleUserCommand({ eventStore, reservationStreamOf, keys, maxAttempts: 3 }, suspend(userId, 'spam'), freshOptions());
    const items = await getUserHistory({ eventStore, keys }, userId);
    expect(items.map((i) => [i.type, i.revision, i.schemaVersion, i.occurredAt])).toEqual([
      ['UserRegistered', 0n, 1, now.toISOString()],
      ['UserSuspended', 1n, 1, now.toISOString()],
    ]);
    expect(items[0]?.metadata).toMatchObject({ commandId: options.commandId, $correlationId: options.correlationId });
    expect(items[1]?.data).toMatchObject({ reason: 'spam' });
    expect((items[1]?.position ?? 0n) > (items[0]?.position ?? 0n)).toBe(true);
  });

  it('shows a stored v1 event with its stored version and its data upcast', async () => {
    const eventStore = createMemoryEventStore();
    const userId = randomUUID();
    await handleUserCommand({ eventStore, reservationStreamOf, keys, maxAttempts: 3 }, register(userId, freshEmail()), freshOptions());
    const metadata = { schemaVersion: 1, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: now.toISOString() };
    await eventStore.appendToStream(
      userStreamId(userId),
      [{ id: randomUUID(), type: 'EmailChanged', data: { userId, email: 'v1@example.com', changedAt: now.toISOString() }, metadata }],
      { expectedRevision: 0n },
    );
    const [, changed] = await getUserHistory({ eventStore, keys }, userId);
    expect(changed).toMatchObject({ type: 'EmailChanged', schemaVersion: 1, data: { email: 'v1@example.com', verified: false } });
  });

  it('answers USER_NOT_FOUND for an unknown user', async () => {
    const error = await getUserHistory({ eventStore: createMemoryEventStore(), keys }, randomUUID()).catch((e: unknown) => e);
    expect(isChronicleError(error) && error.code).toBe('USER_NOT_FOUND');
  });
});
