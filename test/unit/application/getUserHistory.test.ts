import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { getUserHistory, type HistoryItem } from '#application/getUserHistory';
import { handleUserCommand } from '#application/handleUserCommand';
import { isChronicleError } from '#domain/errors';
import { userStreamId } from '#domain/userValues';
import type { EventStore } from '#ports/eventStore';
import { freshEmail, freshOptions, now, reactivate, register, reservationStreamOf, suspend, keys } from './commandFixtures.ts';

/** A store whose commit clock a test moves by hand. */
const steppedStore = () => {
  let time = Date.parse('2026-11-01T00:00:00.000Z');
  const eventStore = createMemoryEventStore({ clock: () => new Date(time) });
  return { eventStore, at: (iso: string) => void (time = Date.parse(iso)) };
};

/** A user with `count` events: registration, then suspensions and reactivations, one minute apart from 00:00. */
const userWithEvents = async (count: number) => {
  const { eventStore, at } = steppedStore();
  const userId = randomUUID();
  const run = (command: Parameters<typeof handleUserCommand>[1]) => handleUserCommand({ eventStore, reservationStreamOf, keys, maxAttempts: 3 }, command, freshOptions());
  for (let i = 0; i < count; i++) {
    at(new Date(Date.parse('2026-11-01T00:00:00.000Z') + i * 60_000).toISOString());
    await run(i === 0 ? register(userId, freshEmail()) : i % 2 === 1 ? suspend(userId) : reactivate(userId));
  }
  return { eventStore, userId };
};

const revisionsOf = (items: readonly HistoryItem[]) => items.map((item) => Number(item.revision));

const allPages = async (eventStore: EventStore, userId: string, query: Parameters<typeof getUserHistory>[2]) => {
  const pages: HistoryItem[][] = [];
  let cursor: string | undefined;
  do {
    const page = await getUserHistory({ eventStore, keys }, userId, { ...query, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return pages;
};

describe('user history', () => {
  it('lists every event oldest first with type, schema version, revision, position, times, data and metadata', async () => {
    const eventStore = createMemoryEventStore();
    const userId = randomUUID();
    const options = freshOptions();
    await handleUserCommand({ eventStore, reservationStreamOf, keys, maxAttempts: 3 }, register(userId, freshEmail()), options);
    await handleUserCommand({ eventStore, reservationStreamOf, keys, maxAttempts: 3 }, suspend(userId, 'spam'), freshOptions());
    const { items, nextCursor } = await getUserHistory({ eventStore, keys }, userId);
    expect(nextCursor).toBeNull();
    expect(items.map((i) => [i.type, i.revision, i.schemaVersion, i.occurredAt])).toEqual([
      ['UserRegistered', 0n, 1, now.toISOString()],
      ['UserSuspended', 1n, 1, now.toISOString()],
    ]);
    expect(items[0]?.recordedAt).toEqual(expect.any(String));
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
    const [, changed] = (await getUserHistory({ eventStore, keys }, userId)).items;
    expect(changed).toMatchObject({ type: 'EmailChanged', schemaVersion: 1, data: { email: 'v1@example.com', verified: false } });
  });

  it('answers USER_NOT_FOUND for an unknown user', async () => {
    const error = await getUserHistory({ eventStore: createMemoryEventStore(), keys }, randomUUID()).catch((e: unknown) => e);
    expect(isChronicleError(error) && error.code).toBe('USER_NOT_FOUND');
  });

  describe('paging', () => {
    it('pages with an opaque cursor, never repeating or skipping an event', async () => {
      const { eventStore, userId } = await userWithEvents(7);
      const pages = await allPages(eventStore, userId, { limit: 3 });
      expect(pages.map(revisionsOf)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    });

    it('answers no cursor on a last page that is exactly full', async () => {
      const { eventStore, userId } = await userWithEvents(4);
      const pages = await allPages(eventStore, userId, { limit: 2 });
      expect(pages.map(revisionsOf)).toEqual([[0, 1], [2, 3]]);
    });

    it('defaults to 100 events a page', async () => {
      const { eventStore, userId } = await userWithEvents(101);
      const first = await getUserHistory({ eventStore, keys }, userId);
      expect(first.items).toHaveLength(100);
      expect(first.nextCursor).not.toBeNull();
    });

    it('keeps to events recorded between from and to, inclusive, across pages', async () => {
      const { eventStore, userId } = await userWithEvents(10);
      const pages = await allPages(eventStore, userId, { limit: 2, from: new Date('2026-11-01T00:03:00Z'), to: new Date('2026-11-01T00:07:00Z') });
      expect(pages.map(revisionsOf)).toEqual([[3, 4], [5, 6], [7]]);
    });

    it('answers an empty page when nothing was recorded in the range', async () => {
      const { eventStore, userId } = await userWithEvents(3);
      expect(await getUserHistory({ eventStore, keys }, userId, { from: new Date('2027-01-01T00:00:00Z') })).toEqual({ items: [], nextCursor: null });
      expect(await getUserHistory({ eventStore, keys }, userId, { to: new Date('2026-10-01T00:00:00Z') })).toEqual({ items: [], nextCursor: null });
    });

    it('rejects a cursor it did not give out', async () => {
      const { eventStore, userId } = await userWithEvents(2);
      const error = await getUserHistory({ eventStore, keys }, userId, { cursor: 'bm90LWEtY3Vyc29y' }).catch((e: unknown) => e);
      expect(isChronicleError(error) && error.code).toBe('VALIDATION_FAILED');
    });

    it('reads a bounded number of events per page, however long the stream', async () => {
      const { eventStore, userId } = await userWithEvents(300);
      let read = 0;
      const counting: EventStore = {
        ...eventStore,
        readStream: async (streamId, options) => {
          const events = await eventStore.readStream(streamId, options);
          read += events.length;
          return events;
        },
      };
      await getUserHistory({ eventStore: counting, keys }, userId, { limit: 10, from: new Date('2026-11-01T02:00:00Z') });
      expect(read).toBeLessThanOrEqual(11 + 2 * Math.ceil(Math.log2(300)) + 2);
    });
  });
});
