import { describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '#ports/eventSource';
import type { StoredEvent } from '#ports/eventStore';
import { createBatcher } from '#projector/batcher';

const eventAt = (position: number): DeliveredEvent => ({
  retryCount: 0,
  event: { id: `e${position}`, streamId: `user-${position}`, type: 'UserRegistered', revision: 0n, position: BigInt(position), data: {}, metadata: {}, recordedAt: new Date() } satisfies StoredEvent,
});

/** A source the test feeds by hand; it counts how many events were pulled from it. */
const channel = () => {
  const queue: DeliveredEvent[] = [];
  const waiters: Array<(result: IteratorResult<DeliveredEvent>) => void> = [];
  let closed = false;
  let failure: Error | null = null;
  const stats = { pulled: 0 };
  const source: AsyncIterable<DeliveredEvent> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        if (failure) return Promise.reject(failure);
        const item = queue.shift();
        if (item) {
          stats.pulled++;
          return Promise.resolve({ value: item, done: false });
        }
        if (closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<DeliveredEvent>>((resolve) =>
          waiters.push((result) => {
            if (!result.done) stats.pulled++;
            resolve(result);
          }),
        );
      },
    }),
  };
  return {
    source,
    stats,
    push: (...items: DeliveredEvent[]) => {
      for (const item of items) {
        const waiter = waiters.shift();
        if (waiter) waiter({ value: item, done: false });
        else queue.push(item);
      }
    },
    close: () => {
      closed = true;
      for (const waiter of waiters.splice(0)) waiter({ value: undefined, done: true });
    },
    fail: (error: Error) => {
      failure = error;
    },
  };
};

const positions = (batch: DeliveredEvent[] | null) => batch?.map((d) => Number(d.event.position));
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('the batcher', () => {
  it('hands over a full batch as soon as batchSize events are there', async () => {
    const feed = channel();
    feed.push(...[1, 2, 3, 4, 5].map(eventAt));
    const batcher = createBatcher(feed.source, { batchSize: 2, batchMaxWaitMs: 60_000, maxInFlight: 100 });
    expect(positions(await batcher.next())).toEqual([1, 2]);
    expect(positions(await batcher.next())).toEqual([3, 4]);
    batcher.stop();
  });

  it('hands over a partial batch once its first event waited batchMaxWaitMs', async () => {
    const feed = channel();
    const batcher = createBatcher(feed.source, { batchSize: 100, batchMaxWaitMs: 40, maxInFlight: 1000 });
    const started = performance.now();
    feed.push(eventAt(1), eventAt(2));
    const batch = await batcher.next();
    expect(positions(batch)).toEqual([1, 2]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(performance.now() - started).toBeLessThan(1000);
    batcher.stop();
  });

  it('waits without a deadline while nothing has arrived, and starts the clock at the first event', async () => {
    const feed = channel();
    const batcher = createBatcher(feed.source, { batchSize: 10, batchMaxWaitMs: 30, maxInFlight: 1000 });
    const next = batcher.next();
    await new Promise((resolve) => setTimeout(resolve, 80));
    const pushedAt = performance.now();
    feed.push(eventAt(7));
    expect(positions(await next)).toEqual([7]);
    expect(performance.now() - pushedAt).toBeGreaterThanOrEqual(25);
    batcher.stop();
  });

  it('answers an empty batch when asked to give up after idleMs with nothing to hand over', async () => {
    const feed = channel();
    const batcher = createBatcher(feed.source, { batchSize: 10, batchMaxWaitMs: 30, maxInFlight: 1000 });
    expect(await batcher.next({ idleMs: 20 })).toEqual([]);
    batcher.stop();
  });

  it('stops pulling while maxInFlight events are taken and not released', async () => {
    const feed = channel();
    feed.push(...Array.from({ length: 10 }, (_, i) => eventAt(i + 1)));
    const batcher = createBatcher(feed.source, { batchSize: 2, batchMaxWaitMs: 0, maxInFlight: 3 });
    await settle();
    expect(feed.stats.pulled).toBe(3);
    const first = await batcher.next();
    await settle();
    expect(feed.stats.pulled).toBe(3);
    batcher.release(first!.length);
    await settle();
    expect(feed.stats.pulled).toBe(5);
    expect(positions(await batcher.next())).toEqual([3, 4]);
    batcher.stop();
  });

  it('answers null once the source has ended and the rest was handed over', async () => {
    const feed = channel();
    feed.push(eventAt(1));
    feed.close();
    const batcher = createBatcher(feed.source, { batchSize: 10, batchMaxWaitMs: 60_000, maxInFlight: 100 });
    expect(positions(await batcher.next())).toEqual([1]);
    expect(await batcher.next()).toBeNull();
  });

  it('answers null to a waiting next when stopped', async () => {
    const feed = channel();
    const batcher = createBatcher(feed.source, { batchSize: 10, batchMaxWaitMs: 10, maxInFlight: 100 });
    const next = batcher.next();
    batcher.stop();
    expect(await next).toBeNull();
  });

  it('rejects with the error of a source whose iterator threw', async () => {
    const feed = channel();
    feed.fail(new Error('connection dropped'));
    const batcher = createBatcher(feed.source, { batchSize: 10, batchMaxWaitMs: 10, maxInFlight: 100 });
    await expect(batcher.next()).rejects.toThrow('connection dropped');
  });

  it('reports every event it takes', async () => {
    const feed = channel();
    const taken: number[] = [];
    feed.push(eventAt(1), eventAt(2));
    const batcher = createBatcher(feed.source, { batchSize: 2, batchMaxWaitMs: 10, maxInFlight: 100, onTake: (d) => taken.push(Number(d.event.position)) });
    await batcher.next();
    expect(taken).toEqual([1, 2]);
    batcher.stop();
  });
});
