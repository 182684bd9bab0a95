import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  closeEventStoreDBClient,
  createEventStoreDBClient,
  createEventStoreDBEventSource,
  createEventStoreDBEventStore,
  createEventStoreDBParkedEvents,
  type EventStoreDBClient,
  type EventStoreDBEventSourceSettings,
} from '#adapters/eventstoredb/index';
import { isUnavailableError } from '#domain/errors';
import type { DeliveredEvent, EventSubscription } from '#ports/eventSource';
import type { EventStore, NewEvent } from '#ports/eventStore';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { describeEventSourceContract } from './eventSource.contract.ts';
import { CONTRACT_MAX_RETRY_COUNT, contractSourceSettings, esdbEventSourceFixture } from './esdbEventSourceFixture.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const sourceSettings = (overrides: Partial<EventStoreDBEventSourceSettings> = {}): EventStoreDBEventSourceSettings =>
  contractSourceSettings({ retry: { baseDelayMs: 20, maxDelayMs: 200, maxElapsedMs: 5_000, maxAttempts: 10 }, ...overrides });

let emulator: EsdbEmulator;
let client: EventStoreDBClient;

beforeAll(async () => {
  emulator = await startEsdbEmulator();
  // Short keepalive: a silently dropped subscription is noticed in about two seconds.
  client = createEventStoreDBClient(`${emulator.connectionString}&keepAliveInterval=1000&keepAliveTimeout=1000`);
});

afterAll(async () => {
  await closeEventStoreDBClient(client);
  await emulator.stop();
});

describeEventSourceContract('EventStoreDB (emulator)', async () => esdbEventSourceFixture(client, sourceSettings()));


const eventually = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
};

const newEvents = (count: number): NewEvent[] =>
  Array.from({ length: count }, (_, n) => ({
    id: randomUUID(),
    type: 'SomethingHappened',
    data: { n },
    metadata: { schemaVersion: 1, $correlationId: randomUUID(), $causationId: randomUUID(), commandId: randomUUID(), occurredAt: '2024-05-01T12:00:00.000Z' },
  }));

/** Acks everything it is given, keeping this test's streams' deliveries. */
const ackingConsumer = (subscription: EventSubscription, isMine: (delivered: DeliveredEvent) => boolean) => {
  const received: DeliveredEvent[] = [];
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const delivered of subscription) {
        if (isMine(delivered)) received.push(delivered);
        await subscription.ack([delivered]);
      }
    } catch (error) {
      failure = error;
    }
  })();
  return {
    received,
    get failure() {
      return failure;
    },
    done,
  };
};

describe('EventStoreDB event source', () => {
  let store: EventStore;
  const cleanups: (() => Promise<void>)[] = [];
  let streams = new Set<string>();

  beforeAll(() => {
    store = createEventStoreDBEventStore(client);
  });
  beforeEach(() => {
    streams = new Set();
  });
  afterEach(async () => {
    emulator.faults.reset();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const freshStreams = (count: number): string[] => {
    const ids = Array.from({ length: count }, () => `user-${randomUUID()}`);
    for (const id of ids) streams.add(id);
    return ids;
  };
  const isMine = (delivered: DeliveredEvent) => streams.has(delivered.event.streamId);

  const subscribe = async (settings: EventStoreDBEventSourceSettings, afterPosition: bigint | null) => {
    const subscription = await createEventStoreDBEventSource(client, settings).subscribe({ afterPosition });
    cleanups.push(() => subscription.close());
    return subscription;
  };

  it('creates its group on the server, Pinned, with the configured settings, and joins it when it exists', async () => {
    const settings = sourceSettings({ bufferSize: 50, readBatchSize: 25, checkpointAfterMs: 250, messageTimeoutMs: 15_000 });
    await subscribe(settings, null);
    await subscribe(settings, null);
    const info = await client.getPersistentSubscriptionToAllInfo(settings.groupName);
    expect(info.settings).toMatchObject({
      consumerStrategyName: 'Pinned',
      readBatchSize: 25,
      checkPointAfter: 250,
      messageTimeout: 15_000,
      maxRetryCount: CONTRACT_MAX_RETRY_COUNT,
      resolveLinkTos: false,
    });
    expect(info.connections).toHaveLength(2);
  });

  it('delivers only the configured stream prefixes', async () => {
    const [mine] = freshStreams(1);
    const settings = sourceSettings({ streamPrefixes: ['user-'] });
    const before = await store.headPosition();
    const subscription = await subscribe(settings, before);
    const consumer = ackingConsumer(subscription, () => true);
    await store.appendToStream(`userEmail-${randomUUID()}`, newEvents(1), { expectedRevision: 'no_stream' });
    const [wanted] = newEvents(1);
    await store.appendToStream(mine!, [wanted!], { expectedRevision: 'no_stream' });
    await eventually(() => consumer.received.some((d) => d.event.id === wanted!.id), 'the user event');
    expect(consumer.received.every((d) => d.event.streamId.startsWith('user-'))).toBe(true);
  });

  it("splits streams between two consumers of one Pinned group: each stream's events go to one consumer, together they see every event", async () => {
    const settings = sourceSettings();
    const start = await store.headPosition();
    const first = ackingConsumer(await subscribe(settings, start), isMine);
    const second = ackingConsumer(await subscribe(settings, start), isMine);
    const ids: string[] = [];
    const streamIds = freshStreams(12);
    for (let round = 0; round < 4; round++) {
      for (const streamId of streamIds) {
        const events = newEvents(1);
        await store.appendToStream(streamId, events, { expectedRevision: round === 0 ? 'no_stream' : BigInt(round - 1) });
        ids.push(events[0]!.id);
      }
    }
    await eventually(() => first.received.length + second.received.length >= ids.length, 'every event');

    expect(new Set([...first.received, ...second.received].map((d) => d.event.id))).toEqual(new Set(ids));
    const streamsOf = (received: DeliveredEvent[]) => new Set(received.map((d) => d.event.streamId));
    const shared = [...streamsOf(first.received)].filter((streamId) => streamsOf(second.received).has(streamId));
    expect(shared).toEqual([]);
    expect(streamsOf(first.received).size).toBeGreaterThan(0);
    expect(streamsOf(second.received).size).toBeGreaterThan(0);
  });

  describe.each([
    { drop: 'silently', options: { graceful: false } },
    { drop: 'with a reset', options: { graceful: false, reset: true } },
  ])('when the connection drops $drop under a running subscription', ({ options }) => {
    it('throws UnavailableError from the iterator, and a resubscribe loses nothing', async () => {
      const settings = sourceSettings();
      const source = createEventStoreDBEventSource(client, settings);
      const start = await store.headPosition();
      const acked = new Set<string>();
      const failures: unknown[] = [];
      let stopped = false;
      let current: EventSubscription | undefined;
      // What the projector runtime does: consume, and on a failure resubscribe after a pause.
      const runtime = (async () => {
        while (!stopped) {
          try {
            current = await source.subscribe({ afterPosition: start });
            for await (const delivered of current) {
              await current.ack([delivered]);
              if (isMine(delivered)) acked.add(delivered.event.id);
            }
          } catch (error) {
            failures.push(error);
            await sleep(50);
          }
        }
      })();
      cleanups.push(async () => {
        stopped = true;
        await current?.close();
        await runtime;
      });

      const ids: string[] = [];
      const streamIds = freshStreams(5);
      for (let round = 0; round < 6; round++) {
        for (const streamId of streamIds) {
          const events = newEvents(1);
          await store.appendToStream(streamId, events, { expectedRevision: 'any' });
          ids.push(events[0]!.id);
        }
        if (round === 2) {
          await eventually(() => acked.size > 0, 'some events acked before the drop');
          await emulator.faults.dropConnections(options);
        }
      }

      await eventually(() => ids.every((id) => acked.has(id)), 'every event acked after resubscribing', 15_000);
      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) expect(isUnavailableError(failure)).toBe(true);
    });
  });

  it('frees the call on close: resubscribing many times leaves no consumer behind', async () => {
    const settings = sourceSettings();
    // The client's own registry of open calls (private; the leak of KurrentDB-Client-NodeJS #172 shows there).
    const openCalls = () => (client as unknown as { disposableStreams: Set<unknown> }).disposableStreams.size;
    const before = openCalls();
    for (let n = 0; n < 15; n++) {
      const subscription = await createEventStoreDBEventSource(client, settings).subscribe({ afterPosition: null });
      await subscription.close();
    }
    await eventually(async () => (await client.getPersistentSubscriptionToAllInfo(settings.groupName)).connections.length === 0, 'no connections');
    await eventually(() => openCalls() <= before, 'the client to forget the closed calls');
  });

  it("hands a closed consumer's unacknowledged events to the next subscriber", async () => {
    const settings = sourceSettings();
    const [streamId] = freshStreams(1);
    const first = await createEventStoreDBEventSource(client, settings).subscribe({ afterPosition: await store.headPosition() });
    const events = newEvents(2);
    await store.appendToStream(streamId!, events, { expectedRevision: 'no_stream' });
    const iterator = first[Symbol.asyncIterator]();
    const seen: DeliveredEvent[] = [];
    while (seen.filter(isMine).length < 2) seen.push((await iterator.next()).value as DeliveredEvent);
    await first.close();

    const second = ackingConsumer(await subscribe(settings, null), isMine);
    await eventually(() => second.received.length >= 2, 'the redelivery');
    expect(second.received.map((d) => d.event.id)).toEqual(events.map((event) => event.id));
    expect(second.received.every((d) => d.retryCount >= 1)).toBe(true);
  });

  it('parks a retry past maxRetryCount with the reason given, and replays it with retry count 0', async () => {
    const settings = sourceSettings();
    const [streamId] = freshStreams(1);
    const subscription = await subscribe(settings, await store.headPosition());
    const [event] = newEvents(1);
    await store.appendToStream(streamId!, [event!], { expectedRevision: 'no_stream' });
    const iterator = subscription[Symbol.asyncIterator]();
    const nextMine = async (): Promise<DeliveredEvent> => {
      for (;;) {
        const { value } = await iterator.next();
        const delivered = value as DeliveredEvent;
        if (isMine(delivered)) return delivered;
        await subscription.ack([delivered]);
      }
    };
    for (let attempt = 0; attempt <= CONTRACT_MAX_RETRY_COUNT; attempt++) {
      const delivered = await nextMine();
      expect(delivered.retryCount).toBe(attempt);
      await subscription.nack([delivered], 'retry', 'redis is down');
    }
    const parked = createEventStoreDBParkedEvents(client, { groupName: settings.groupName });
    await eventually(async () => (await parked.list()).length === 1, 'the event to be parked');
    const [listed] = await parked.list();
    expect(listed).toMatchObject({ event: { id: event!.id, streamId }, reason: expect.stringContaining('redis is down') });

    expect(await parked.replay()).toBe(1);
    const replayed = await nextMine();
    expect(replayed).toMatchObject({ event: { id: event!.id }, retryCount: 0 });
    await subscription.ack([replayed]);
    await eventually(async () => (await parked.list()).length === 0, 'the parked list to empty');
  });

  describe('subscribing while the server is failing', () => {
    it('retries creating the group and connecting when they fail UNAVAILABLE', async () => {
      const settings = sourceSettings();
      emulator.faults.failNext('persistent.create', 2, status.UNAVAILABLE);
      emulator.faults.failNext('persistent.read', 2, status.UNAVAILABLE);
      const subscription = await subscribe(settings, null);
      const [streamId] = freshStreams(1);
      const consumer = ackingConsumer(subscription, isMine);
      await store.appendToStream(streamId!, newEvents(1), { expectedRevision: 'no_stream' });
      await eventually(() => consumer.received.length === 1, 'the event');
    });

    it('fails with UnavailableError once the bound is spent', async () => {
      const settings = sourceSettings({ retry: { baseDelayMs: 10, maxDelayMs: 20, maxElapsedMs: 1_000, maxAttempts: 2 } });
      emulator.faults.failNext('persistent.read', 2, status.UNAVAILABLE);
      const error = await createEventStoreDBEventSource(client, settings)
        .subscribe({ afterPosition: null })
        .catch((e: unknown) => e);
      expect(isUnavailableError(error)).toBe(true);
    });

    it('throws UnavailableError from the iterator when the group is deleted, and a resubscribe creates it again', async () => {
      const settings = sourceSettings();
      const source = createEventStoreDBEventSource(client, settings);
      const first = ackingConsumer(await source.subscribe({ afterPosition: null }), isMine);
      await client.deletePersistentSubscriptionToAll(settings.groupName);
      await first.done;
      expect(isUnavailableError(first.failure)).toBe(true);

      const again = await subscribe(settings, await store.headPosition());
      const consumer = ackingConsumer(again, isMine);
      const [streamId] = freshStreams(1);
      await store.appendToStream(streamId!, newEvents(1), { expectedRevision: 'no_stream' });
      await eventually(() => consumer.received.length === 1, 'the event after resubscribing');
    });
  });
});
