import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveredEvent, EventSource, EventSubscription, ParkedEvents } from '#ports/eventSource';
import type { EventStore, NewEvent } from '#ports/eventStore';
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventSourceFixture {
  readonly store: EventStore;
  readonly source: EventSource;
  readonly parked: ParkedEvents;
  /** When the source parks events retried this often, the suite checks that it does. */
  readonly maxRetryCount?: number;
  teardown(): Promise<void>;
}

const WAIT_MS = 10_000;
/** How long "nothing else arrives" is watched for, after a later event has already arrived. */
const QUIET_MS = 200;


const eventuallyTrue = async (check: () => Promise<boolean>, what: string, timeoutMs = WAIT_MS): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
};

/**
 * Reads a subscription in the background, keeping what belongs to this test's streams and
 * acking anything else (a shared log may deliver other tests' events).
 */
const consume = (subscription: EventSubscription, isMine: (delivered: DeliveredEvent) => boolean) => {
  const received: DeliveredEvent[] = [];
  let taken = 0;
  let ended = false;
  let failure: unknown;
  const loop = (async () => {
    try {
      for await (const delivered of subscription) {
        if (isMine(delivered)) received.push(delivered);
        else await subscription.ack([delivered]);
      }
    } catch (error) {
      failure = error;
    } finally {
      ended = true;
    }
  })();

  return {
    received,
    get ended() {
      return ended;
    },
    /** The next `count` deliveries not taken yet. */
    async take(count: number): Promise<DeliveredEvent[]> {
      await eventuallyTrue(async () => {
        if (failure !== undefined) throw failure;
        return received.length >= taken + count;
      }, `${count} deliveries (have ${received.length - taken})`);
      const batch = received.slice(taken, taken + count);
      taken += count;
      return batch;
    },
    /** Takes deliveries until one is of `id`; answers everything taken, that one last. */
    async takeUntil(id: string): Promise<DeliveredEvent[]> {
      const batch: DeliveredEvent[] = [];
      for (;;) {
        const [delivered] = await this.take(1);
        batch.push(delivered!);
        if (delivered!.event.id === id) return batch;
      }
    },
    async stop(): Promise<void> {
      await subscription.close();
      await loop;
    },
  };
};

/**
 * What every EventSource (the projector's feed) must do, with its ParkedEvents. Like the event
 * store suite it assumes only the port: user streams with fresh ids, a log that may hold other
 * events, positions with gaps. Sources with a server-side checkpoint may ignore afterPosition.
 */
export const describeEventSourceContract = (name: string, setup: () => Promise<EventSourceFixture>): void => {
  describe(`event source contract: ${name}`, () => {
    let fixture: EventSourceFixture;
    let store: EventStore;
    let streams: Set<string>;
    let stops: (() => Promise<void>)[];

    beforeEach(async () => {
      fixture = await setup();
      store = fixture.store;
      streams = new Set();
      stops = [];
    });
    afterEach(async () => {
      for (const stop of stops) await stop();
      await fixture.teardown();
    });

    const freshStream = (): string => {
      const streamId = `user-${randomUUID()}`;
      streams.add(streamId);
      return streamId;
    };

    const newEvents = (count: number): NewEvent[] =>
      Array.from({ length: count }, (_, n) => ({
        id: randomUUID(),
        type: 'SomethingHappened',
        data: { n },
        metadata: { schemaVersion: 1, $correlationId: randomUUID(), $causationId: randomUUID(), commandId: randomUUID(), occurredAt: new Date().toISOString() },
      }));

    const append = async (streamId: string, count: number): Promise<string[]> => {
      const events = newEvents(count);
      await store.appendToStream(streamId, events, { expectedRevision: 'any' });
      return events.map((event) => event.id);
    };

    const subscribe = async (afterPosition: bigint | null) => {
      const subscription = await fixture.source.subscribe({ afterPosition });
      const consumer = consume(subscription, (delivered) => streams.has(delivered.event.streamId));
      stops.push(() => consumer.stop());
      return { subscription, consumer };
    };

    const subscribeFromNow = async () => subscribe(await store.headPosition());

    const idsOf = (deliveries: readonly DeliveredEvent[]): string[] => deliveries.map((delivered) => delivered.event.id);

    it('delivers events appended before and after subscribing', async () => {
      const streamId = freshStream();
      const before = await store.headPosition();
      const early = await append(streamId, 3);
      const { subscription, consumer } = await subscribe(before);
      const late = await append(streamId, 2);

      const delivered = await consumer.take(5);
      await subscription.ack(delivered);
      expect(new Set(idsOf(delivered))).toEqual(new Set([...early, ...late]));
    });

    it("delivers each stream's events in revision order to a single consumer", async () => {
      const first = freshStream();
      const second = freshStream();
      const { subscription, consumer } = await subscribeFromNow();
      for (let round = 0; round < 4; round++) {
        await append(first, 2);
        await append(second, 1);
      }

      const delivered = await consumer.take(12);
      await subscription.ack(delivered);
      for (const streamId of [first, second]) {
        const revisions = delivered.filter((d) => d.event.streamId === streamId).map((d) => d.event.revision);
        expect(revisions).toEqual([...revisions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }
    });

    it('redelivers nothing already acked to a subscriber resuming after the last acked position', async () => {
      const streamId = freshStream();
      const { subscription, consumer } = await subscribeFromNow();
      const acked = await append(streamId, 3);
      const firstDeliveries = await consumer.take(3);
      await subscription.ack(firstDeliveries);
      await consumer.stop();
      const lastAcked = firstDeliveries[firstDeliveries.length - 1]!.event.position;

      const later = await append(streamId, 2);
      const resumed = await subscribe(lastAcked);
      const delivered = await resumed.consumer.takeUntil(later[1]!);
      await resumed.subscription.ack(delivered);
      expect(idsOf(delivered).filter((id) => acked.includes(id))).toEqual([]);
      expect(idsOf(delivered)).toEqual(expect.arrayContaining(later));
    });

    it('redelivers an event nacked for retry, with a higher retry count', async () => {
      const streamId = freshStream();
      const { subscription, consumer } = await subscribeFromNow();
      const [id] = await append(streamId, 1);
      const [first] = await consumer.take(1);
      expect(first).toMatchObject({ event: { id }, retryCount: 0 });

      await subscription.nack([first!], 'retry', 'read model unreachable');
      const [again] = await consumer.take(1);
      expect(again?.event.id).toBe(id);
      expect(again!.retryCount).toBeGreaterThan(first!.retryCount);
      await subscription.ack([again!]);
    });

    it('parks an event once its retries are used up', async (context) => {
      const maxRetryCount = fixture.maxRetryCount;
      if (maxRetryCount === undefined) return context.skip('the fixture does not say how often the source retries');
      const streamId = freshStream();
      const { subscription, consumer } = await subscribeFromNow();
      const [id] = await append(streamId, 1);
      for (let attempt = 0; attempt <= maxRetryCount; attempt++) {
        const [delivered] = await consumer.take(1);
        expect(delivered?.event.id).toBe(id);
        await subscription.nack([delivered!], 'retry', 'projection keeps failing');
      }
      await eventuallyTrue(async () => (await fixture.parked.list()).some((parked) => parked.event.id === id), 'the event to be parked');
      const listed = (await fixture.parked.list()).find((parked) => parked.event.id === id);
      expect(listed?.reason).toContain('projection keeps failing');
    });

    it('stops delivering an event nacked with skip', async () => {
      const streamId = freshStream();
      const { subscription, consumer } = await subscribeFromNow();
      const [skipped] = await append(streamId, 1);
      const [first] = await consumer.take(1);
      await subscription.nack([first!], 'skip', 'not for us');

      const [sentinel] = await append(streamId, 1);
      const delivered = await consumer.takeUntil(sentinel!);
      await subscription.ack(delivered);
      await sleep(QUIET_MS);
      expect(idsOf(consumer.received).filter((id) => id === skipped)).toHaveLength(1);
    });

    describe('a parked event', () => {
      const parkOne = async (reason: string) => {
        const streamId = freshStream();
        const { subscription, consumer } = await subscribeFromNow();
        const [id] = await append(streamId, 1);
        const [delivered] = await consumer.take(1);
        expect(delivered?.event.id).toBe(id);
        await subscription.nack([delivered!], 'park', reason);
        return { streamId, id: id!, subscription, consumer };
      };

      const parkedIds = async (): Promise<string[]> => (await fixture.parked.list()).map((parked) => parked.event.id);

      it('is not delivered again', async () => {
        const { streamId, id, subscription, consumer } = await parkOne('poison: cannot decode');
        const [sentinel] = await append(streamId, 1);
        await subscription.ack(await consumer.takeUntil(sentinel!));
        await sleep(QUIET_MS);
        expect(idsOf(consumer.received).filter((received) => received === id)).toHaveLength(1);
      });

      it('is listed with its reason and when it was parked', async () => {
        const { id } = await parkOne('poison: cannot decode');
        await eventuallyTrue(async () => (await parkedIds()).includes(id), 'the parked event to be listed');
        const listed = (await fixture.parked.list()).find((parked) => parked.event.id === id);
        expect(listed?.reason).toContain('poison: cannot decode');
        expect(listed?.parkedAt).toBeInstanceOf(Date);
        expect(typeof listed?.event.position).toBe('bigint');
      });

      it('is delivered again after a replay, and leaves the parked list', async () => {
        const { id, subscription, consumer } = await parkOne('poison: cannot decode');
        await eventuallyTrue(async () => (await parkedIds()).includes(id), 'the parked event to be listed');

        expect(await fixture.parked.replay()).toBeGreaterThanOrEqual(1);
        const [replayed] = await consumer.take(1);
        expect(replayed?.event.id).toBe(id);
        await subscription.ack([replayed!]);
        await eventuallyTrue(async () => !(await parkedIds()).includes(id), 'the replayed event to leave the parked list');
      });
    });

    it('ends iteration on close', async () => {
      const { subscription, consumer } = await subscribeFromNow();
      await sleep(50);
      await subscription.close();
      await eventuallyTrue(async () => consumer.ended, 'the iteration to end');
    });
  });
};
