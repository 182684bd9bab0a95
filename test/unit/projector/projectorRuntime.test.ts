import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryEventSource } from '#adapters/memory/memoryEventSource';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { createMemoryReadModels } from '#adapters/memory/memoryReadModels';
import { projectStoredEvent } from '#application/userProjection';
import type { DeliveredEvent, EventSource, EventSubscription } from '#ports/eventSource';
import type { StoredEvent } from '#ports/eventStore';
import type { ReadModels } from '#ports/readModels';
import { createProjector, type Projector } from '#projector/createProjector';
import { createScriptedEventSource } from '#test/support/scriptedEventSource';
import { generateUserTraffic } from '#test/support/userTraffic';
import { eventually } from '#test/support/waiting';

const settings = {
  batchSize: 50,
  batchMaxWaitMs: 5,
  maxInFlight: 500,
  healthPort: null,
  retry: { baseDelayMs: 1, maxDelayMs: 5, maxElapsedMs: 200 },
  maxRetryCount: 5,
  orphanGraceMs: 60_000,
};

const running: Projector[] = [];
const start = async (source: EventSource, readModels: ReadModels, overrides: Partial<typeof settings> = {}): Promise<Projector> => {
  const projector = createProjector({ source, readModels, settings: { ...settings, ...overrides } });
  running.push(projector);
  await projector.start();
  return projector;
};
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

/** A user's stream as stored: registered, then suspended, then reactivated. */
const userStream = (firstPosition: bigint) => {
  const userId = randomUUID();
  const streamId = `user-${userId}`;
  const at = '2024-05-01T10:00:00.000Z';
  const base = { streamId, metadata: { schemaVersion: 1 }, recordedAt: new Date(at) };
  const events: StoredEvent[] = [
    { ...base, id: randomUUID(), type: 'UserRegistered', revision: 0n, position: firstPosition, data: { userId, email: `${userId}@example.com`, displayName: 'Ada', registeredAt: at } },
    { ...base, id: randomUUID(), type: 'UserSuspended', revision: 1n, position: firstPosition + 1n, data: { userId, reason: 'spam', suspendedAt: at } },
    { ...base, id: randomUUID(), type: 'UserReactivated', revision: 2n, position: firstPosition + 2n, data: { userId, reactivatedAt: at } },
  ];
  return { userId, streamId, events };
};

/**
 * A source whose subscriptions deliver what the test hands each of them, in that order: the
 * first one fails once its events are taken, like a connection cut; acks are recorded.
 */
const createHandOverSource = (...perSubscription: StoredEvent[][]) => {
  const acked: StoredEvent[] = [];
  const later: StoredEvent[] = [];
  let wake: () => void = () => undefined;
  let count = 0;
  const source: EventSource = {
    async subscribe() {
      const index = count++;
      const events = [...(perSubscription[index] ?? [])];
      let closed = false;
      const subscription: EventSubscription = {
        [Symbol.asyncIterator]: () => ({
          async next(): Promise<IteratorResult<DeliveredEvent>> {
            for (;;) {
              const event = events.shift() ?? (index > 0 ? later.shift() : undefined);
              if (event !== undefined) return { done: false, value: { event, retryCount: index } };
              if (index === 0) throw new Error('connection cut');
              if (closed) return { done: true, value: undefined };
              await new Promise<void>((resolve) => (wake = resolve));
            }
          },
        }),
        ack: async (delivered) => void acked.push(...delivered.map((d) => d.event)),
        nack: async () => undefined,
        close: async () => {
          closed = true;
          wake();
        },
      };
      return subscription;
    },
  };
  return {
    source,
    acked,
    subscriptions: () => count,
    /** Delivered by the open (second or later) subscription, after what it was handed. */
    deliverLater(...events: StoredEvent[]) {
      later.push(...events);
      wake();
    },
  };
};

describe('the projector runtime', () => {
  describe('on an in-order log', () => {
    it('applies every event and ends with the checkpoint at the head', async () => {
      const store = createMemoryEventStore();
      for (const { streamId, event } of generateUserTraffic(1200, { seed: 7 })) await store.appendToStream(streamId, [event], { expectedRevision: 'any' });
      const readModels = createMemoryReadModels();
      await start(createMemoryEventSource(store, { maxRetryCount: 5 }), readModels);

      const head = await store.headPosition();
      await eventually(async () => expect(await readModels.getCheckpoint()).toBe(head));

      const expected = createMemoryReadModels();
      await expected.applyBatch((await store.readAll()).map((event) => projectStoredEvent(event)), head);
      for (const event of await store.readAll({ maxCount: 200 })) {
        const id = String(event.data['userId']);
        expect(await readModels.getUser(id)).toEqual(await expected.getUser(id));
      }
      expect(await readModels.countUsers('active')).toBe(await expected.countUsers('active'));
      expect(await readModels.countUsers('suspended')).toBe(await expected.countUsers('suspended'));
    });

    it('follows events appended while it runs', async () => {
      const store = createMemoryEventStore();
      const readModels = createMemoryReadModels();
      await start(createMemoryEventSource(store, { maxRetryCount: 5 }), readModels);
      const { userId, streamId, events } = userStream(1n);
      const [registered] = events;
      const result = await store.appendToStream(streamId, [{ id: registered!.id, type: registered!.type, data: registered!.data, metadata: { schemaVersion: 1, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: 't' } }], { expectedRevision: 'no_stream' });
      await eventually(async () => expect((await readModels.getUser(userId))?.revision).toBe(0n), 1000);
      expect(await readModels.getCheckpoint()).toBe(result.position);
    });
  });

  describe('when events are redelivered', () => {
    it('acknowledges duplicates without applying them again', async () => {
      const source = createScriptedEventSource();
      const readModels = createMemoryReadModels();
      const projector = await start(source, readModels, { batchSize: 2 });
      const { userId, events } = userStream(1n);
      const [registered, suspended] = events;
      source.push(registered!, suspended!, registered!, suspended!, registered!);

      await eventually(() => expect(source.acked).toHaveLength(5));
      expect(source.nacked).toEqual([]);
      expect(await readModels.getUser(userId)).toMatchObject({ status: 'suspended', revision: 1n });
      expect((await projector.metrics.duplicates.get()).values[0]?.value).toBe(3);
      expect((await projector.metrics.eventsApplied.get()).values[0]?.value).toBe(2);
    });
  });

  describe('when an event arrives before its predecessor', () => {
    it('sends it back until the predecessor is applied, then applies it once', async () => {
      const source = createScriptedEventSource();
      const readModels = createMemoryReadModels();
      await start(source, readModels, { batchSize: 1 });
      const { userId, streamId, events } = userStream(1n);
      const [registered, suspended, reactivated] = events;
      source.push(suspended!, reactivated!, registered!);

      await eventually(async () => expect(await readModels.getUser(userId)).toMatchObject({ status: 'active', revision: 2n }));
      expect(source.nacked.filter((n) => n.action === 'retry').map((n) => n.reason)).toContain(`waiting for revision 0 of ${streamId}`);
      expect(source.nacked.every((n) => n.action === 'retry')).toBe(true);
      await eventually(() => expect(source.acked.map((e) => e.revision).sort()).toEqual([0n, 1n, 2n]));
      expect(await readModels.getCheckpoint()).toBe(3n);
    });

    it('keeps the checkpoint below the event still waiting', async () => {
      const source = createScriptedEventSource();
      const readModels = createMemoryReadModels();
      await start(source, readModels, { batchSize: 10, maxRetryCount: 1000 });
      const waiting = userStream(1n);
      const other = userStream(10n);
      // revision 1 of `waiting` at position 2 comes without revision 0 (position 1)
      source.push(waiting.events[1]!, other.events[0]!, other.events[1]!);

      await eventually(async () => expect(await readModels.getUser(other.userId)).toMatchObject({ revision: 1n }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await readModels.getCheckpoint()).toBeNull();
      source.push(waiting.events[0]!);
      await eventually(async () => expect(await readModels.getCheckpoint()).toBe(11n));
    });

    it('parks an event whose predecessor never comes after maxRetryCount deliveries', async () => {
      const source = createScriptedEventSource();
      const readModels = createMemoryReadModels();
      const projector = await start(source, readModels, { batchSize: 1, maxRetryCount: 3 });
      const { streamId, events } = userStream(1n);
      source.push(events[1]!);

      await eventually(() => expect(source.nacked.filter((n) => n.action === 'park')).toHaveLength(1));
      const parked = source.nacked.find((n) => n.action === 'park')!;
      expect(parked.retryCount).toBe(3);
      expect(parked.reason).toContain(`waiting for revision 0 of ${streamId}`);
      expect((await projector.metrics.parked.get()).values[0]?.value).toBe(1);
    });
  });

  describe('when an event cannot be projected', () => {
    it('parks it with the reason and applies the rest of the batch', async () => {
      const store = createMemoryEventStore();
      const meta = { schemaVersion: 1, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: '2024-01-01T00:00:00.000Z' };
      const good = randomUUID();
      const bad = randomUUID();
      await store.appendToStream(`user-${bad}`, [{ id: randomUUID(), type: 'UserRegistered', data: { userId: bad }, metadata: meta }], { expectedRevision: 'no_stream' });
      await store.appendToStream(`user-${good}`, [{ id: randomUUID(), type: 'UserRegistered', data: { userId: good, email: 'g@example.com', displayName: 'G', registeredAt: meta.occurredAt }, metadata: meta }], {
        expectedRevision: 'no_stream',
      });
      const source = createMemoryEventSource(store, { maxRetryCount: 5 });
      const readModels = createMemoryReadModels();
      const projector = await start(source, readModels);

      await eventually(async () => expect(await readModels.getCheckpoint()).toBe(2n));
      expect(await readModels.getUser(good)).toMatchObject({ email: 'g@example.com' });
      expect(await readModels.getUser(bad)).toBeNull();
      const parked = await source.list();
      expect(parked).toHaveLength(1);
      expect(parked[0]).toMatchObject({ event: { streamId: `user-${bad}` }, reason: expect.stringContaining('UserRegistered v1 is malformed') });
      expect((await projector.metrics.parked.get()).values[0]?.value).toBe(1);
    });
  });

  describe('when the read models fail', () => {
    it('retries a transient failure with backoff and then applies the batch', async () => {
      const source = createScriptedEventSource();
      const readModels = createMemoryReadModels();
      readModels.failNextApplies(3);
      const projector = await start(source, readModels);
      const { userId, events } = userStream(1n);
      source.push(...events);

      await eventually(() => expect(source.acked).toHaveLength(3));
      expect(source.nacked).toEqual([]);
      expect(await readModels.getUser(userId)).toMatchObject({ revision: 2n });
      expect((await projector.metrics.retries.get()).values[0]?.value).toBe(3);
    });

    it('sends the batch back for redelivery once the retry bound is spent', async () => {
      const source = createScriptedEventSource();
      const readModels = createMemoryReadModels();
      readModels.failNextApplies(1_000_000);
      await start(source, readModels, { retry: { baseDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 20 } });
      const { userId, events } = userStream(1n);
      source.push(...events);

      await eventually(() => expect(source.nacked.length).toBeGreaterThanOrEqual(3));
      expect(source.nacked.slice(0, 3).map((n) => [n.action, n.event.revision])).toEqual([
        ['retry', 0n],
        ['retry', 1n],
        ['retry', 2n],
      ]);
      expect(source.nacked[0]!.reason).toContain('read-model write failed');

      readModels.failNextApplies(0);
      await eventually(async () => expect(await readModels.getUser(userId)).toMatchObject({ revision: 2n }));
    });

    it('does not retry an error that is not transient, and does not park for it', async () => {
      const source = createScriptedEventSource();
      const readModels = createMemoryReadModels();
      readModels.failNextApplies(1, new Error('script error'));
      const projector = await start(source, readModels);
      const { userId, events } = userStream(1n);
      source.push(events[0]!);

      await eventually(async () => expect(await readModels.getUser(userId)).not.toBeNull());
      expect(source.nacked.map((n) => n.action)).toEqual(['retry']);
      expect((await projector.metrics.retries.get()).values[0]?.value ?? 0).toBe(0);
    });
  });

  describe('when a batch write keeps failing', () => {
    it('parks its events once they were retried maxRetryCount times, and the checkpoint moves past them', async () => {
      const source = createScriptedEventSource();
      const memory = createMemoryReadModels();
      const broken = userStream(1n);
      const healthy = userStream(10n);
      const rejecting: ReadModels = {
        ...memory,
        applyBatch: async (events, checkpoint) => {
          if (events.some((e) => e.streamId === broken.streamId)) throw new Error('script error');
          return memory.applyBatch(events, checkpoint);
        },
      };
      const projector = await start(source, rejecting, { batchSize: 1, maxRetryCount: 2 });
      source.push(broken.events[0]!, healthy.events[0]!);

      await eventually(async () => expect(await memory.getCheckpoint()).toBe(10n));
      const parked = source.nacked.filter((n) => n.action === 'park');
      expect(parked.map((n) => [n.event.position, n.retryCount])).toEqual([[1n, 2]]);
      expect(parked[0]!.reason).toContain('read-model write failed: script error');
      expect(source.nacked.filter((n) => n.action === 'retry').map((n) => n.retryCount)).toEqual([0, 1]);
      expect((await projector.metrics.parked.get()).values[0]?.value).toBe(1);
    });
  });

  describe('with two batches in flight', () => {
    it('sends the next batch before the first is answered, yet never lets a checkpoint cover a batch that then fails', async () => {
      const source = createScriptedEventSource();
      const memory = createMemoryReadModels();
      const calls: { checkpoint: bigint | null; pendingBefore: number }[] = [];
      let pending = 0;
      let openGate: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      const gatedReadModels: ReadModels = {
        ...memory,
        applyBatch: async (events, checkpoint) => {
          calls.push({ checkpoint, pendingBefore: pending });
          const call = calls.length;
          pending++;
          if (call === 2) openGate();
          await gate;
          pending--;
          if (call === 1) throw new Error('script error');
          return memory.applyBatch(events, checkpoint);
        },
      };
      await start(source, gatedReadModels, { batchSize: 3 });
      const [a, b] = [userStream(1n), userStream(4n)];
      // Batch 1 holds the first two events of each stream, batch 2 the rest: all of batch 2 depends on batch 1.
      source.push(a.events[0]!, a.events[1]!, { ...b.events[0]!, position: 3n }, { ...a.events[2]!, position: 4n }, { ...b.events[1]!, position: 5n }, { ...b.events[2]!, position: 6n });

      await eventually(async () => expect(await memory.getCheckpoint()).toBe(6n));
      expect(calls[1]).toEqual({ checkpoint: null, pendingBefore: 1 });
      expect(await memory.getUser(a.userId)).toMatchObject({ status: 'active', revision: 2n });
      expect(await memory.getUser(b.userId)).toMatchObject({ status: 'active', revision: 2n });
      expect(source.nacked.filter((n) => n.action === 'retry').map((n) => n.event.position).sort()).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
      expect(source.nacked.filter((n) => n.action === 'park')).toEqual([]);
    });
  });

  describe('when the subscription drops', () => {
    it('subscribes again after the checkpoint and loses nothing', async () => {
      const source = createScriptedEventSource();
      const readModels = createMemoryReadModels();
      await start(source, readModels, { batchSize: 1 });
      const first = userStream(1n);
      source.push(...first.events);
      await eventually(async () => expect(await readModels.getCheckpoint()).toBe(3n));

      source.dropAfter(0);
      const second = userStream(4n);
      source.push(...second.events);
      await eventually(async () => expect(await readModels.getUser(second.userId)).toMatchObject({ revision: 2n }));
      expect(source.subscriptions.map((s) => s.afterPosition)).toEqual([null, 3n]);
    });

    it('keeps the checkpoint below an event taken before the drop that the new subscription redelivers only after newer ones', async () => {
      const cut = userStream(5n);
      const newer = userStream(10n);
      const source = createHandOverSource([cut.events[0]!], [newer.events[0]!]);
      const readModels = createMemoryReadModels();
      await start(source.source, readModels, { batchMaxWaitMs: 20 });

      await eventually(async () => expect(await readModels.getUser(newer.userId)).not.toBeNull());
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(await readModels.getUser(cut.userId)).toBeNull();
      expect((await readModels.getCheckpoint()) ?? -1n).toBeLessThan(5n);

      source.deliverLater(cut.events[0]!);
      await eventually(async () => expect(await readModels.getCheckpoint()).toBe(10n));
      expect(await readModels.getUser(cut.userId)).not.toBeNull();
    });

    it('lets the checkpoint pass an event taken before the drop once the read models show it applied elsewhere', async () => {
      const cut = userStream(5n);
      const newer = userStream(10n);
      const source = createHandOverSource([cut.events[0]!], [newer.events[0]!]);
      const readModels = createMemoryReadModels();
      await start(source.source, readModels, { batchMaxWaitMs: 20 });
      await eventually(async () => expect(await readModels.getUser(newer.userId)).not.toBeNull());
      expect((await readModels.getCheckpoint()) ?? -1n).toBeLessThan(5n);

      // Another projector of the group got it after the drop.
      await readModels.applyBatch([projectStoredEvent(cut.events[0]!)], null);
      await eventually(async () => expect(await readModels.getCheckpoint()).toBe(10n));
      expect(source.subscriptions()).toBe(2);
    });

    it('gives up on such an event once the grace for a redelivery has passed', async () => {
      const cut = userStream(5n);
      const newer = userStream(10n);
      const source = createHandOverSource([cut.events[0]!], [newer.events[0]!]);
      const readModels = createMemoryReadModels();
      await start(source.source, readModels, { batchMaxWaitMs: 20, orphanGraceMs: 300 });
      await eventually(async () => expect(await readModels.getUser(newer.userId)).not.toBeNull());
      expect((await readModels.getCheckpoint()) ?? -1n).toBeLessThan(5n);

      await eventually(async () => expect(await readModels.getCheckpoint()).toBe(10n));
      expect(await readModels.getUser(cut.userId)).toBeNull();
    });
  });

  describe('when stopped', () => {
    it('finishes and acknowledges the batch being written, and takes nothing more', async () => {
      const source = createScriptedEventSource();
      const memory = createMemoryReadModels();
      let releaseWrite: () => void = () => undefined;
      let writing: () => void = () => undefined;
      const writeStarted = new Promise<void>((resolve) => (writing = resolve));
      const slowReadModels: ReadModels = {
        ...memory,
        applyBatch: async (events, checkpoint) => {
          if (events.length > 0) {
            writing();
            await new Promise<void>((resolve) => (releaseWrite = resolve));
          }
          return memory.applyBatch(events, checkpoint);
        },
      };
      const projector = await start(source, slowReadModels, { batchSize: 3 });
      const first = userStream(1n);
      source.push(...first.events);
      await writeStarted;

      const stopped = projector.stop();
      source.push(...userStream(4n).events);
      releaseWrite();
      await stopped;

      expect(source.acked.map((e) => e.position)).toEqual([1n, 2n, 3n]);
      expect(await memory.getCheckpoint()).toBe(3n);
      expect(source.inFlight()).toBe(0);
      expect(projector.status().subscribed).toBe(false);
    });
  });
});
