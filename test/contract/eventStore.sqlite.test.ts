import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { isConcurrencyError } from '#domain/errors';
import { tempDir } from '#test/support/tempDir';
import { describeEventStoreContract } from './eventStore.contract.ts';

describeEventStoreContract('sqlite', async () => {
  const dir = tempDir('chronicle-events-');
  const store = createSqliteEventStore({ path: path.join(dir.path, 'nested', 'events.sqlite') });
  return {
    store,
    async teardown() {
      await store.close();
      dir.remove();
    },
  };
});

describe('sqlite event store', () => {
  const event = (n: number) => ({
    id: randomUUID(),
    type: 'SomethingHappened',
    data: { n },
    metadata: { schemaVersion: 1, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: '2024-01-01T00:00:00.000Z' },
  });

  it('keeps events across reopening the file', async () => {
    const dir = tempDir('chronicle-events-');
    const file = path.join(dir.path, 'events.sqlite');
    try {
      const first = createSqliteEventStore({ path: file });
      const result = await first.appendToStream('user-1', [event(1), event(2)], { expectedRevision: 'no_stream' });
      await first.close();
      const second = createSqliteEventStore({ path: file });
      expect((await second.readStream('user-1')).map((stored) => stored.data)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(await second.headPosition()).toBe(result.position);
      await second.close();
    } finally {
      dir.remove();
    }
  });

  it('lets exactly one of 10 connections to one file win a race on the same expected revision', async () => {
    const dir = tempDir('chronicle-events-');
    const file = path.join(dir.path, 'events.sqlite');
    const stores = Array.from({ length: 10 }, () => createSqliteEventStore({ path: file }));
    try {
      await stores[0]!.appendToStream('user-race', [event(0)], { expectedRevision: 'no_stream' });
      const outcomes = await Promise.allSettled(stores.map((store, n) => store.appendToStream('user-race', [event(n)], { expectedRevision: 0n })));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) if (outcome.status === 'rejected') expect(isConcurrencyError(outcome.reason)).toBe(true);
      expect(await stores[9]!.readStream('user-race')).toHaveLength(2);
    } finally {
      for (const store of stores) await store.close();
      dir.remove();
    }
  });

  it('reads large pages of the log in position order', async () => {
    const dir = tempDir('chronicle-events-');
    const store = createSqliteEventStore({ path: path.join(dir.path, 'events.sqlite') });
    try {
      for (let batch = 0; batch < 25; batch++)
        await store.appendToStream(`user-${batch % 5}`, Array.from({ length: 100 }, (_, n) => event(batch * 100 + n)), { expectedRevision: 'any' });
      const pages: number[] = [];
      let from: bigint | undefined;
      let expected = 0;
      for (;;) {
        const page = await store.readAll({ fromPosition: from, maxCount: 1000 });
        if (page.length === 0) break;
        pages.push(page.length);
        for (const stored of page) expect(stored.data['n']).toBe(expected++);
        from = page[page.length - 1]!.position + 1n;
      }
      expect(pages).toEqual([1000, 1000, 500]);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});
