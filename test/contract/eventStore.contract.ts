import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isConcurrencyError, type ConcurrencyError } from '#domain/errors';
import type { JsonObject } from '#domain/upcasters';
import type { EventMetadata, EventStore, NewEvent, StoredEvent } from '#ports/eventStore';

export interface EventStoreFixture {
  readonly store: EventStore;
  teardown(): Promise<void>;
}

/**
 * What every EventStore adapter must do. The suite assumes nothing beyond the port: global
 * positions grow but may have gaps, and the log may hold other tests' events (a shared real
 * server), so every test writes fresh streams under a prefix of its own and reads the log
 * through that prefix.
 */
export const describeEventStoreContract = (name: string, setup: () => Promise<EventStoreFixture>): void => {
  describe(`event store contract: ${name}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;
    let prefix: string;

    beforeEach(async () => {
      fixture = await setup();
      store = fixture.store;
      prefix = `contract${randomUUID().replaceAll('-', '').slice(0, 12)}-`;
    });
    afterEach(async () => {
      await fixture.teardown();
    });

    const freshStream = (kind = 'stream'): string => `${prefix}${kind}-${randomUUID()}`;

    const metadata = (extra: Partial<EventMetadata> = {}): EventMetadata => ({
      schemaVersion: 1,
      $correlationId: randomUUID(),
      $causationId: randomUUID(),
      commandId: randomUUID(),
      occurredAt: '2024-05-01T12:00:00.000Z',
      ...extra,
    });

    const newEvent = (type = 'SomethingHappened', data: JsonObject = { n: 1 }): NewEvent => ({ id: randomUUID(), type, data, metadata: metadata() });
    const newEvents = (count: number): NewEvent[] => Array.from({ length: count }, (_, n) => newEvent('SomethingHappened', { n }));

    const conflictOf = async (append: Promise<unknown>): Promise<ConcurrencyError> => {
      const error = await append.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isConcurrencyError(error), `expected a ConcurrencyError, got ${String(error)}`).toBe(true);
      return error as ConcurrencyError;
    };

    const revisionsOf = (events: readonly StoredEvent[]): bigint[] => events.map((event) => event.revision);

    describe('appending', () => {
      it('creates a stream with no_stream, starting at revision 0', async () => {
        const streamId = freshStream();
        const result = await store.appendToStream(streamId, newEvents(2), { expectedRevision: 'no_stream' });
        expect(result.nextRevision).toBe(1n);
        expect(revisionsOf(await store.readStream(streamId))).toEqual([0n, 1n]);
      });

      it('answers the global position of the last event appended', async () => {
        const streamId = freshStream();
        const result = await store.appendToStream(streamId, newEvents(3), { expectedRevision: 'no_stream' });
        const stored = await store.readStream(streamId);
        expect(result.position).toBe(stored[2]?.position);
      });

      it('appends at an exact expected revision', async () => {
        const streamId = freshStream();
        await store.appendToStream(streamId, newEvents(2), { expectedRevision: 'no_stream' });
        const result = await store.appendToStream(streamId, newEvents(1), { expectedRevision: 1n });
        expect(result.nextRevision).toBe(2n);
      });

      it('appends with any, whether or not the stream exists', async () => {
        const streamId = freshStream();
        expect((await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'any' })).nextRevision).toBe(0n);
        expect((await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'any' })).nextRevision).toBe(1n);
      });

      it('appends with stream_exists to an existing stream', async () => {
        const streamId = freshStream();
        await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'no_stream' });
        expect((await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'stream_exists' })).nextRevision).toBe(1n);
      });

      it('gives every event a position above the previous ones', async () => {
        const streamId = freshStream();
        const first = await store.appendToStream(streamId, newEvents(2), { expectedRevision: 'no_stream' });
        const second = await store.appendToStream(freshStream(), newEvents(1), { expectedRevision: 'no_stream' });
        const positions = (await store.readStream(streamId)).map((event) => event.position);
        expect(positions[0]! < positions[1]!).toBe(true);
        expect(second.position > first.position).toBe(true);
      });

      it('keeps revisions and positions as bigint', async () => {
        const streamId = freshStream();
        const result = await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'no_stream' });
        expect(typeof result.nextRevision).toBe('bigint');
        expect(typeof result.position).toBe('bigint');
        const [stored] = await store.readStream(streamId);
        expect(typeof stored?.revision).toBe('bigint');
        expect(typeof stored?.position).toBe('bigint');
        expect(typeof (await store.headPosition())).toBe('bigint');
      });
    });

    describe('a concurrency conflict', () => {
      it('rejects no_stream on an existing stream, carrying both revisions', async () => {
        const streamId = freshStream();
        await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'no_stream' });
        const conflict = await conflictOf(store.appendToStream(streamId, newEvents(1), { expectedRevision: 'no_stream' }));
        expect(conflict).toMatchObject({ streamId, expectedRevision: 'no_stream', actualRevision: '0' });
      });

      it('rejects a stale exact revision, carrying both revisions', async () => {
        const streamId = freshStream();
        await store.appendToStream(streamId, newEvents(3), { expectedRevision: 'no_stream' });
        const conflict = await conflictOf(store.appendToStream(streamId, newEvents(1), { expectedRevision: 1n }));
        expect(conflict).toMatchObject({ streamId, expectedRevision: '1', actualRevision: '2' });
      });

      it('rejects an exact revision on a stream that does not exist', async () => {
        const streamId = freshStream();
        const conflict = await conflictOf(store.appendToStream(streamId, newEvents(1), { expectedRevision: 0n }));
        expect(conflict).toMatchObject({ streamId, expectedRevision: '0', actualRevision: 'no_stream' });
      });

      it('rejects stream_exists on a stream that does not exist', async () => {
        const streamId = freshStream();
        const conflict = await conflictOf(store.appendToStream(streamId, newEvents(1), { expectedRevision: 'stream_exists' }));
        expect(conflict).toMatchObject({ streamId, expectedRevision: 'stream_exists', actualRevision: 'no_stream' });
      });

      it('writes nothing', async () => {
        const streamId = freshStream();
        await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'no_stream' });
        await conflictOf(store.appendToStream(streamId, newEvents(2), { expectedRevision: 'no_stream' }));
        expect(await store.readStream(streamId)).toHaveLength(1);
      });

      it('lets exactly one of 10 concurrent appenders with the same expected revision win', async () => {
        const streamId = freshStream();
        await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'no_stream' });
        const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => store.appendToStream(streamId, newEvents(2), { expectedRevision: 0n })));
        const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        const losers = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(9);
        for (const loser of losers) expect(isConcurrencyError(loser.reason)).toBe(true);
        expect(revisionsOf(await store.readStream(streamId))).toEqual([0n, 1n, 2n]);
      });
    });

    describe('an idempotent retry', () => {
      it('answers the original result and writes nothing', async () => {
        const streamId = freshStream();
        const events = newEvents(2);
        const original = await store.appendToStream(streamId, events, { expectedRevision: 'no_stream' });
        expect(await store.appendToStream(streamId, events, { expectedRevision: 'no_stream' })).toEqual(original);
        expect(await store.appendToStream(streamId, events, { expectedRevision: 'any' })).toEqual(original);
        expect(await store.readStream(streamId)).toHaveLength(2);
      });

      it('answers the original result after the stream moved on', async () => {
        const streamId = freshStream();
        const events = newEvents(1);
        await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'no_stream' });
        const original = await store.appendToStream(streamId, events, { expectedRevision: 0n });
        await store.appendToStream(streamId, newEvents(1), { expectedRevision: 1n });
        expect(await store.appendToStream(streamId, events, { expectedRevision: 0n })).toEqual(original);
        expect(revisionsOf(await store.readStream(streamId))).toEqual([0n, 1n, 2n]);
      });

      it('rejects a batch that only partly overlaps what is stored', async () => {
        const streamId = freshStream();
        const [first, second, third] = newEvents(3) as [NewEvent, NewEvent, NewEvent];
        await store.appendToStream(streamId, [first, second], { expectedRevision: 'no_stream' });
        await conflictOf(store.appendToStream(streamId, [second, third], { expectedRevision: 0n }));
        await conflictOf(store.appendToStream(streamId, [first, third], { expectedRevision: 'no_stream' }));
        expect((await store.readStream(streamId)).map((event) => event.id)).toEqual([first.id, second.id]);
      });
    });

    describe('reading a stream', () => {
      const streamOfFive = async (): Promise<string> => {
        const streamId = freshStream();
        await store.appendToStream(streamId, newEvents(5), { expectedRevision: 'no_stream' });
        return streamId;
      };

      it('reads forwards from the start by default', async () => {
        expect(revisionsOf(await store.readStream(await streamOfFive()))).toEqual([0n, 1n, 2n, 3n, 4n]);
      });

      it('reads forwards from a revision with a count', async () => {
        const streamId = await streamOfFive();
        expect(revisionsOf(await store.readStream(streamId, { fromRevision: 2n, maxCount: 2 }))).toEqual([2n, 3n]);
        expect(revisionsOf(await store.readStream(streamId, { fromRevision: 3n, maxCount: 10 }))).toEqual([3n, 4n]);
      });

      it('reads backwards from the end by default', async () => {
        expect(revisionsOf(await store.readStream(await streamOfFive(), { direction: 'backwards' }))).toEqual([4n, 3n, 2n, 1n, 0n]);
      });

      it('reads backwards from a revision with a count', async () => {
        const streamId = await streamOfFive();
        expect(revisionsOf(await store.readStream(streamId, { direction: 'backwards', fromRevision: 3n, maxCount: 2 }))).toEqual([3n, 2n]);
        expect(revisionsOf(await store.readStream(streamId, { direction: 'backwards', maxCount: 1 }))).toEqual([4n]);
      });

      it('reads nothing past the end', async () => {
        expect(await store.readStream(await streamOfFive(), { fromRevision: 5n })).toEqual([]);
      });

      it('reads an unknown stream as empty, in both directions', async () => {
        const streamId = freshStream();
        expect(await store.readStream(streamId)).toEqual([]);
        expect(await store.readStream(streamId, { direction: 'backwards' })).toEqual([]);
      });

      it('round-trips data, metadata, type, id and stream', async () => {
        const streamId = freshStream();
        const data = { text: 'Zoë 👋 "quoted"', count: 42, ratio: 0.5, flag: true, nothing: null, list: [1, 'two', { three: 3 }], nested: { deep: { deeper: [] } } };
        const meta = metadata({ schemaVersion: 2, actor: { issuer: 'https://id.example', subject: 'user-42' }, custom: { trace: ['a', 'b'] } });
        const event: NewEvent = { id: randomUUID(), type: 'EmailChanged', data, metadata: meta };
        await store.appendToStream(streamId, [event], { expectedRevision: 'no_stream' });
        const [stored] = await store.readStream(streamId);
        expect(stored).toMatchObject({ id: event.id, streamId, type: 'EmailChanged', revision: 0n, data, metadata: meta });
        expect(stored?.recordedAt).toBeInstanceOf(Date);
        expect(Number.isNaN(stored?.recordedAt.getTime())).toBe(false);
      });
    });

    describe('reading the whole log', () => {
      it('reads the streams under a prefix in position order, in pages', async () => {
        const first = freshStream('a');
        const second = freshStream('b');
        const appended: string[] = [];
        for (let round = 0; round < 3; round++) {
          for (const streamId of [first, second]) {
            const events = newEvents(1);
            await store.appendToStream(streamId, events, { expectedRevision: 'any' });
            appended.push(events[0]!.id);
          }
          await store.appendToStream(`other${prefix}${randomUUID()}`, newEvents(1), { expectedRevision: 'any' });
        }

        const pages: StoredEvent[][] = [];
        let fromPosition: bigint | undefined;
        for (;;) {
          const page = await store.readAll({ fromPosition, maxCount: 4, streamPrefixes: [prefix] });
          if (page.length === 0) break;
          pages.push(page);
          fromPosition = page[page.length - 1]!.position + 1n;
        }

        expect(pages.map((page) => page.length)).toEqual([4, 2]);
        const read = pages.flat();
        expect(read.map((event) => event.id)).toEqual(appended);
        for (let index = 1; index < read.length; index++) expect(read[index]!.position > read[index - 1]!.position).toBe(true);
      });

      it('starts at a position, inclusive', async () => {
        const streamId = freshStream();
        await store.appendToStream(streamId, newEvents(4), { expectedRevision: 'no_stream' });
        const stored = await store.readStream(streamId);
        const read = await store.readAll({ fromPosition: stored[2]!.position, streamPrefixes: [prefix] });
        expect(read.map((event) => event.id)).toEqual([stored[2]!.id, stored[3]!.id]);
      });

      it('filters by any of several stream prefixes', async () => {
        const wanted = [`${prefix}x-`, `${prefix}y-`];
        const x = `${wanted[0]}${randomUUID()}`;
        const y = `${wanted[1]}${randomUUID()}`;
        const z = `${prefix}z-${randomUUID()}`;
        for (const streamId of [x, z, y]) await store.appendToStream(streamId, newEvents(1), { expectedRevision: 'no_stream' });
        const read = await store.readAll({ streamPrefixes: wanted });
        expect(read.map((event) => event.streamId)).toEqual([x, y]);
      });

      it('answers events as they were stored', async () => {
        const streamId = freshStream();
        await store.appendToStream(streamId, newEvents(2), { expectedRevision: 'no_stream' });
        expect(await store.readAll({ streamPrefixes: [prefix] })).toEqual(await store.readStream(streamId));
      });

      it('moves the head position to the newest event', async () => {
        const result = await store.appendToStream(freshStream(), newEvents(2), { expectedRevision: 'no_stream' });
        const head = await store.headPosition();
        expect(head).not.toBeNull();
        expect(head! >= result.position).toBe(true);
      });
    });
  });
};
