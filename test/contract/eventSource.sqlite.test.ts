import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteEventSource } from '#adapters/sqlite/sqliteEventSource';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { createSqliteParkedEvents } from '#adapters/sqlite/sqliteParkedEvents';
import type { DeliveredEvent, EventSubscription } from '#ports/eventSource';
import type { EventStore, NewEvent } from '#ports/eventStore';
import { tempDir } from '#test/support/tempDir';
import { describeEventSourceContract } from './eventSource.contract.ts';

describeEventSourceContract('sqlite', async () => {
  const dir = tempDir('chronicle-source-');
  const file = path.join(dir.path, 'events.sqlite');
  const maxRetryCount = 3;
  const store = createSqliteEventStore({ path: file });
  const source = createSqliteEventSource({ path: file, pollIntervalMs: 10, maxRetryCount });
  const parked = createSqliteParkedEvents({ path: file });
  return {
    store,
    source,
    parked,
    maxRetryCount,
    async teardown() {
      await source.close();
      await parked.close();
      await store.close();
      dir.remove();
    },
  };
});

describe('sqlite event source', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  let store: EventStore;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(() => {
    dir = tempDir('chronicle-source-');
    file = path.join(dir.path, 'events.sqlite');
    store = createSqliteEventStore({ path: file });
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await store.close();
    dir.remove();
  });

  const openSource = (options: { pageSize?: number; streamPrefixes?: string[] } = {}) => {
    const source = createSqliteEventSource({ path: file, pollIntervalMs: 10, maxRetryCount: 2, ...options });
    closers.push(() => source.close());
    return source;
  };
  const openParked = () => {
    const parked = createSqliteParkedEvents({ path: file });
    closers.push(() => parked.close());
    return parked;
  };

  const newEvents = (count: number): NewEvent[] =>
    Array.from({ length: count }, (_, n) => ({
      id: randomUUID(),
      type: 'SomethingHappened',
      data: { n },
      metadata: { schemaVersion: 1, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: '2024-01-01T00:00:00.000Z' },
    }));

  /** The next `count` deliveries, read directly from the iterator. */
  const take = async (subscription: EventSubscription, count: number): Promise<DeliveredEvent[]> => {
    const iterator = subscription[Symbol.asyncIterator]();
    const taken: DeliveredEvent[] = [];
    while (taken.length < count) {
      const next = await iterator.next();
      if (next.done) throw new Error(`iteration ended after ${taken.length} of ${count}`);
      taken.push(next.value);
    }
    return taken;
  };

  it('delivers only the configured stream prefixes, in position order, across pages', async () => {
    for (let n = 0; n < 25; n++) {
      await store.appendToStream(`user-${n % 3}`, newEvents(10), { expectedRevision: 'any' });
      await store.appendToStream(`userEmail-${n}`, newEvents(1), { expectedRevision: 'any' });
    }
    const subscription = await openSource({ pageSize: 7 }).subscribe({ afterPosition: null });
    const delivered = await take(subscription, 250);
    expect(delivered.every((d) => d.event.streamId.startsWith('user-') && !d.event.streamId.startsWith('userEmail-'))).toBe(true);
    const positions = delivered.map((d) => d.event.position);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(positions).size).toBe(250);
  });

  it('resumes after the given position', async () => {
    await store.appendToStream('user-a', newEvents(3), { expectedRevision: 'no_stream' });
    const [, second] = await store.readStream('user-a');
    const subscription = await openSource().subscribe({ afterPosition: second!.position });
    const [next] = await take(subscription, 1);
    expect(next?.event.revision).toBe(2n);
  });

  it('parks an event whose retries are used up, with the reason', async () => {
    await store.appendToStream('user-a', newEvents(1), { expectedRevision: 'no_stream' });
    const subscription = await openSource().subscribe({ afterPosition: null });
    for (const expectedRetryCount of [0, 1, 2]) {
      const [delivered] = await take(subscription, 1);
      expect(delivered?.retryCount).toBe(expectedRetryCount);
      await subscription.nack([delivered!], 'retry', 'redis down');
    }
    const [listed] = await openParked().list();
    expect(listed?.reason).toContain('redis down');
  });

  it('replays events parked by one process to a source running in another, oldest first with retry count 0', async () => {
    await store.appendToStream('user-a', newEvents(3), { expectedRevision: 'no_stream' });
    const subscription = await openSource().subscribe({ afterPosition: null });
    const delivered = await take(subscription, 3);
    await subscription.nack([delivered[2]!, delivered[0]!], 'park', 'poison');
    await subscription.ack([delivered[1]!]);

    const cli = openParked();
    expect((await cli.list()).map((parked) => parked.event.revision).sort()).toEqual([0n, 2n]);
    expect(await cli.replay()).toBe(2);
    expect(await cli.list()).toEqual([]);

    const replayed = await take(subscription, 2);
    expect(replayed.map((d) => [d.event.revision, d.retryCount])).toEqual([
      [0n, 0],
      [2n, 0],
    ]);
    await subscription.ack(replayed);
    expect(await cli.replay()).toBe(0);
  });

  it('replays again to the next subscriber when a replayed event was never acked', async () => {
    await store.appendToStream('user-a', newEvents(1), { expectedRevision: 'no_stream' });
    const source = openSource();
    const first = await source.subscribe({ afterPosition: null });
    const [delivered] = await take(first, 1);
    await first.nack([delivered!], 'park', 'poison');
    await openParked().replay();
    await take(first, 1);
    await first.close();

    const head = await store.headPosition();
    const second = await source.subscribe({ afterPosition: head });
    const [again] = await take(second, 1);
    expect(again?.event.id).toBe(delivered?.event.id);
  });

  it('keeps parked events when the file is reopened', async () => {
    await store.appendToStream('user-a', newEvents(1), { expectedRevision: 'no_stream' });
    const source = openSource();
    const subscription = await source.subscribe({ afterPosition: null });
    const [delivered] = await take(subscription, 1);
    await subscription.nack([delivered!], 'park', 'poison');
    await source.close();

    const [listed] = await openParked().list();
    expect(listed).toMatchObject({ reason: 'poison', event: { id: delivered!.event.id } });
  });

  it('ends every subscription when the source closes', async () => {
    const source = openSource();
    const subscription = await source.subscribe({ afterPosition: null });
    const next = subscription[Symbol.asyncIterator]().next();
    await source.close();
    expect(await next).toEqual({ done: true, value: undefined });
  });
});
