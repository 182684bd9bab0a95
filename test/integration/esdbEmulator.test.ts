import { randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  eventTypeFilter,
  jsonEvent,
  persistentSubscriptionToAllSettingsFromDefaults,
  persistentSubscriptionToStreamSettingsFromDefaults,
  streamNameFilter,
  type PersistentSubscriptionToStreamSettings,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { serverFeaturesGrpc, sharedPb } from '#test/support/esdb-emulator/protos';
import { caught, collect } from '#test/support/waiting';

let emulator: EsdbEmulator;
let client: EventStoreDBClient;

beforeAll(async () => {
  emulator = await startEsdbEmulator();
  client = EventStoreDBClient.connectionString(emulator.connectionString);
});

afterAll(async () => {
  await client?.dispose();
  await emulator?.stop();
});

const streamId = (prefix = 'emu'): string => `${prefix}-${randomUUID()}`;
const event = (type: string, data: Record<string, unknown> = {}, id?: string) => jsonEvent({ type, data, ...(id === undefined ? {} : { id }) });

const waitFor = async (condition: () => boolean, timeoutMs = 3_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const waitUntil = async (condition: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const settingsFor = (changes: Partial<PersistentSubscriptionToStreamSettings> = {}): PersistentSubscriptionToStreamSettings =>
  persistentSubscriptionToStreamSettingsFromDefaults({ startFrom: START, ...changes });

const typesOf = (events: readonly ResolvedEvent[]): string[] => events.map((resolved) => resolved.event?.type ?? '?');

describe('EventStoreDB emulator', () => {
  describe('server features', () => {
    it('lists the streams and persistent-subscription methods, batch append included', async () => {
      const port = emulator.connectionString.match(/:(\d+)\?/)?.[1];
      const features = new serverFeaturesGrpc.ServerFeaturesClient(`127.0.0.1:${port}`, credentials.createInsecure());
      const answer = await new Promise<SupportedMethods>((resolve, reject) =>
        features.getSupportedMethods(new sharedPb.Empty(), (error, response) => (error ? reject(error) : resolve(response))),
      );
      features.close();
      const methods = answer.getMethodsList().map((method) => `${method.getServiceName()}/${method.getMethodName()}:${method.getFeaturesList().join(',')}`);
      expect(methods).toContain('event_store.client.streams.streams/batchappend:deadline_duration');
      expect(methods).toContain('event_store.client.persistent_subscriptions.persistentsubscriptions/create:stream,all');
      expect(answer.getEventStoreServerVersion()).toMatch(/^\d+\.\d+/);
    });
  });

  describe('appending', () => {
    it('appends to a new stream and answers the revision and a global position above zero', async () => {
      const stream = streamId();
      const result = await client.appendToStream(stream, [event('A'), event('B')], { expectedRevision: 'no_stream' });
      expect(result.success).toBe(true);
      expect(result.nextExpectedRevision).toBe(1n);
      expect(result.position?.commit).toBeGreaterThan(0n);
      expect(result.position?.commit).toBe(result.position?.prepare);
    });

    it('gives every event a strictly increasing position across streams', async () => {
      const first = await client.appendToStream(streamId(), event('A'));
      const second = await client.appendToStream(streamId(), event('B'));
      expect(second.position?.commit).toBeGreaterThan(first.position?.commit ?? 0n);
    });

    it('rejects a stale expected revision with both revisions', async () => {
      const stream = streamId();
      await client.appendToStream(stream, [event('A'), event('B')]);
      const error = await caught(() => client.appendToStream(stream, event('C'), { expectedRevision: 0n }));
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamName: stream, expectedVersion: 0n, actualVersion: 1n });
    });

    it('rejects no_stream on an existing stream and stream_exists on a missing one', async () => {
      const stream = streamId();
      await client.appendToStream(stream, event('A'));
      expect(await caught(() => client.appendToStream(stream, event('B'), { expectedRevision: 'no_stream' }))).toMatchObject({
        expectedVersion: 'no_stream',
        actualVersion: 0n,
      });
      expect(await caught(() => client.appendToStream(streamId(), event('B'), { expectedRevision: 'stream_exists' }))).toMatchObject({
        expectedVersion: 'stream_exists',
        actualVersion: 'no_stream',
      });
    });

    it('acknowledges a retried append with the same event ids without writing twice', async () => {
      const stream = streamId();
      const ids = [randomUUID(), randomUUID()];
      const first = await client.appendToStream(stream, [event('A', {}, ids[0]), event('B', {}, ids[1])], { expectedRevision: 'no_stream' });
      await client.appendToStream(stream, event('C'), { expectedRevision: 1n });
      const retry = await client.appendToStream(stream, [event('A', {}, ids[0]), event('B', {}, ids[1])], { expectedRevision: 'no_stream' });
      expect(retry).toEqual(first);
      expect(typesOf(await collect(client.readStream(stream)))).toEqual(['A', 'B', 'C']);
    });

    it('answers a partial overlap of ids with a wrong expected version', async () => {
      const stream = streamId();
      const id = randomUUID();
      await client.appendToStream(stream, event('A', {}, id), { expectedRevision: 'no_stream' });
      const error = await caught(() => client.appendToStream(stream, [event('A', {}, id), event('B')], { expectedRevision: 'no_stream' }));
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
    });

    it('serves the unary Append path as well (per-call credentials skip BatchAppend)', async () => {
      const stream = streamId();
      const viaAppend = { credentials: { username: 'admin', password: 'changeit' } };
      const result = await client.appendToStream(stream, event('A'), { expectedRevision: 'no_stream', ...viaAppend });
      expect(result.nextExpectedRevision).toBe(0n);
      const error = await caught(() => client.appendToStream(stream, event('B'), { expectedRevision: 5n, ...viaAppend }));
      expect(error).toMatchObject({ expectedVersion: 5n, actualVersion: 0n });
    });
  });

  describe('reading a stream', () => {
    it('reads forwards and backwards with counts and start revisions', async () => {
      const stream = streamId();
      await client.appendToStream(stream, ['A', 'B', 'C', 'D'].map((type) => event(type)));
      expect(typesOf(await collect(client.readStream(stream, { direction: FORWARDS, fromRevision: 1n, maxCount: 2 })))).toEqual(['B', 'C']);
      expect(typesOf(await collect(client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 3 })))).toEqual(['D', 'C', 'B']);
      expect(typesOf(await collect(client.readStream(stream, { direction: BACKWARDS, fromRevision: 1n })))).toEqual(['B', 'A']);
    });

    it('returns JSON data, metadata, revision, position and the created time', async () => {
      const stream = streamId();
      const before = Date.now();
      await client.appendToStream(stream, jsonEvent({ type: 'Registered', data: { email: 'a@b.c' }, metadata: { $correlationId: 'c-1' } }));
      const [read] = await collect(client.readStream(stream));
      expect(read?.event).toMatchObject({ streamId: stream, revision: 0n, type: 'Registered', isJson: true, data: { email: 'a@b.c' }, metadata: { $correlationId: 'c-1' } });
      expect(read?.event?.position?.commit).toBeGreaterThan(0n);
      expect(read?.event?.created.getTime()).toBeGreaterThanOrEqual(before - 1);
    });

    it('raises StreamNotFoundError for a stream that was never written', async () => {
      expect(await caught(() => collect(client.readStream(streamId())))).toBeInstanceOf(StreamNotFoundError);
    });
  });

  describe('reading $all', () => {
    it('reads forwards from a position inclusively and backwards from it exclusively', async () => {
      const stream = streamId();
      const appended = await client.appendToStream(stream, ['A', 'B', 'C'].map((type) => event(type)));
      const mine = (await collect(client.readAll({ fromPosition: START }))).filter((resolved) => resolved.event?.streamId === stream);
      const middle = mine[1]?.event?.position as Position;
      const forwards = await collect(client.readAll({ fromPosition: middle, maxCount: 2 }));
      expect(forwards.map((resolved) => resolved.event?.type)).toEqual(['B', 'C']);
      const backwards = await collect(client.readAll({ fromPosition: middle, direction: BACKWARDS, maxCount: 1 }));
      expect(backwards.map((resolved) => resolved.event?.type)).toEqual(['A']);
      const [last] = await collect(client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }));
      expect(last?.event?.position?.commit).toBe(appended.position?.commit);
    });
  });

  describe('catch-up subscriptions', () => {
    it('delivers a stream after the start revision, signals caught-up, then live events', async () => {
      const stream = streamId();
      await client.appendToStream(stream, ['A', 'B'].map((type) => event(type)));
      const subscription = client.subscribeToStream(stream, { fromRevision: 0n });
      const received: string[] = [];
      let caughtUp = false;
      subscription.on('data', (resolved: ResolvedEvent) => received.push(resolved.event?.type ?? '?'));
      subscription.on('caughtUp', () => (caughtUp = true));
      await waitFor(() => caughtUp);
      await client.appendToStream(stream, event('C'));
      await waitFor(() => received.length === 2);
      await subscription.unsubscribe();
      expect(received).toEqual(['B', 'C']);
    });

    it('filters $all by stream prefix, reports checkpoints and delivers live events', async () => {
      const prefix = `filtered${randomUUID().slice(0, 8)}-`;
      await client.appendToStream(`${prefix}1`, event('Old'));
      await client.appendToStream(streamId('other'), event('Noise'));
      const checkpoints: Position[] = [];
      const subscription = client.subscribeToAll({
        fromPosition: START,
        filter: streamNameFilter({ prefixes: [prefix], checkpointReached: (_s, position) => void checkpoints.push(position) }),
      });
      const received: string[] = [];
      subscription.on('data', (resolved) => received.push(`${resolved.event?.streamId}:${resolved.event?.type}`));
      await waitFor(() => received.length === 1);
      await client.appendToStream(streamId('other'), event('Noise'));
      await client.appendToStream(`${prefix}2`, event('Live'));
      await waitFor(() => received.length === 2);
      await subscription.unsubscribe();
      expect(received).toEqual([`${prefix}1:Old`, `${prefix}2:Live`]);
      expect(checkpoints.length).toBeGreaterThan(0);
    });

    it('filters $all by event type regex from the end', async () => {
      const type = `Typed${randomUUID().slice(0, 8)}`;
      await client.appendToStream(streamId(), event(type));
      const subscription = client.subscribeToAll({ fromPosition: END, filter: eventTypeFilter({ regex: `^${type}$` }) });
      const received: string[] = [];
      let confirmed = false;
      subscription.on('data', (resolved) => received.push(resolved.event?.type ?? '?'));
      subscription.on('confirmation', () => (confirmed = true));
      await waitFor(() => confirmed);
      await client.appendToStream(streamId(), [event('Other'), event(type)]);
      await waitFor(() => received.length === 1);
      await settle(50);
      await subscription.unsubscribe();
      expect(received).toEqual([type]);
    });
  });

  describe('deleting', () => {
    it('soft delete reads as not found and a later append continues the numbering', async () => {
      const stream = streamId();
      await client.appendToStream(stream, [event('A'), event('B')]);
      await client.deleteStream(stream);
      expect(await caught(() => collect(client.readStream(stream)))).toBeInstanceOf(StreamNotFoundError);
      const result = await client.appendToStream(stream, event('C'));
      expect(result.nextExpectedRevision).toBe(2n);
      expect((await collect(client.readStream(stream))).map((resolved) => resolved.event?.revision)).toEqual([2n]);
    });

    it('tombstone answers stream-deleted to reads and appends', async () => {
      const stream = streamId();
      await client.appendToStream(stream, event('A'));
      await client.tombstoneStream(stream);
      expect(await caught(() => collect(client.readStream(stream)))).toBeInstanceOf(StreamDeletedError);
      expect(await caught(() => client.appendToStream(stream, event('B')))).toBeInstanceOf(StreamDeletedError);
    });

    it('refuses a delete with a wrong expected revision', async () => {
      const stream = streamId();
      await client.appendToStream(stream, event('A'));
      expect(await caught(() => client.deleteStream(stream, { expectedRevision: 4n }))).toMatchObject({ expectedVersion: 4n, actualVersion: 0n });
    });
  });

  describe('persistent subscriptions', () => {
    type Received = { type: string; streamId: string; retryCount: number; id: string };

    const consume = (stream: string, group: string, bufferSize = 10, onEvent?: (event: Received, raw: never) => void) => {
      const subscription = client.subscribeToPersistentSubscriptionToStream(stream, group, { bufferSize });
      const received: Received[] = [];
      const errors: unknown[] = [];
      subscription.on('data', (resolved) => {
        const item = { type: resolved.event?.type ?? '?', streamId: resolved.event?.streamId ?? '?', retryCount: resolved.retryCount, id: resolved.event?.id ?? '' };
        received.push(item);
        onEvent?.(item, resolved as never);
      });
      subscription.on('error', (error) => errors.push(error));
      return { subscription, received, errors };
    };

    it('creates a group, delivers from the start and stops delivering acknowledged events', async () => {
      const stream = streamId();
      const group = 'g';
      await client.appendToStream(stream, [event('A'), event('B')]);
      await client.createPersistentSubscriptionToStream(stream, group, settingsFor({ messageTimeout: 300 }));
      const { subscription, received } = consume(stream, group);
      subscription.on('data', (resolved) => void subscription.ack(resolved));
      await waitFor(() => received.length === 2);
      await settle(600);
      await subscription.unsubscribe();
      expect(received.map((item) => item.type)).toEqual(['A', 'B']);
      const error = await caught(() => client.createPersistentSubscriptionToStream(stream, group, settingsFor()));
      expect(error).toMatchObject({ type: 'persistent-subscription-exists', groupName: group });
    });

    it('parks a nacked event where readStream with resolveLinkTos lists it, and replays it with retryCount 0', async () => {
      const stream = streamId();
      const group = 'parking';
      await client.appendToStream(stream, [event('Poison'), event('Fine')]);
      await client.createPersistentSubscriptionToStream(stream, group, settingsFor());
      const { subscription, received } = consume(stream, group);
      subscription.on('data', (resolved) => {
        if (resolved.event?.type === 'Poison' && resolved.retryCount === 0 && received.filter((item) => item.type === 'Poison').length === 1) {
          void subscription.nack('park', 'projection threw', resolved);
        } else void subscription.ack(resolved);
      });
      await waitFor(() => received.length === 2);
      const parkedStream = `$persistentsubscription-${stream}::${group}-parked`;
      const parked = await collect(client.readStream(parkedStream, { resolveLinkTos: true }));
      expect(parked).toHaveLength(1);
      expect(parked[0]?.event).toMatchObject({ streamId: stream, type: 'Poison' });
      expect(parked[0]?.link?.metadata).toMatchObject({ Reason: 'projection threw', SubscriptionEventNumber: 0 });
      expect((await client.getPersistentSubscriptionToStreamInfo(stream, group)).stats.parkedMessageCount).toBe(1n);

      await client.replayParkedMessagesToStream(stream, group);
      await waitFor(() => received.length === 3);
      expect(received[2]).toMatchObject({ type: 'Poison', retryCount: 0 });
      expect(await collect(client.readStream(parkedStream, { resolveLinkTos: true }))).toHaveLength(0);
      await subscription.unsubscribe();
    });

    it('redelivers a nack-retried event with retryCount + 1 and parks it after maxRetryCount', async () => {
      const stream = streamId();
      const group = 'retrying';
      await client.appendToStream(stream, event('Flaky'));
      await client.createPersistentSubscriptionToStream(stream, group, settingsFor({ maxRetryCount: 2 }));
      const { subscription, received } = consume(stream, group);
      subscription.on('data', (resolved) => void subscription.nack('retry', 'not yet', resolved));
      await waitFor(() => received.length === 3);
      await settle(200);
      expect(received.map((item) => item.retryCount)).toEqual([0, 1, 2]);
      const parked = await collect(client.readStream(`$persistentsubscription-${stream}::${group}-parked`, { resolveLinkTos: true }));
      expect(parked.map((resolved) => resolved.event?.type)).toEqual(['Flaky']);
      await subscription.unsubscribe();
    });

    it('redelivers an event not acknowledged within the message timeout', async () => {
      const stream = streamId();
      const group = 'timeout';
      await client.appendToStream(stream, event('Slow'));
      await client.createPersistentSubscriptionToStream(stream, group, settingsFor({ messageTimeout: 300 }));
      const { subscription, received } = consume(stream, group);
      await waitFor(() => received.length === 2, 2_000);
      expect(received.map((item) => item.retryCount)).toEqual([0, 1]);
      await subscription.unsubscribe();
    });

    it('keeps at most bufferSize unacknowledged events in flight per subscriber', async () => {
      const stream = streamId();
      const group = 'buffer';
      await client.appendToStream(stream, ['A', 'B', 'C', 'D'].map((type) => event(type)));
      await client.createPersistentSubscriptionToStream(stream, group, settingsFor());
      const firstTwo: ResolvedEvent[] = [];
      const subscription = client.subscribeToPersistentSubscriptionToStream(stream, group, { bufferSize: 2 });
      subscription.on('data', (resolved) => firstTwo.push(resolved));
      await waitFor(() => firstTwo.length === 2);
      await settle(100);
      expect(firstTwo).toHaveLength(2);
      await subscription.ack(...firstTwo.slice(0, 2));
      await waitFor(() => firstTwo.length === 4);
      await subscription.unsubscribe();
    });

    it('pins each stream to one of two consumers, in order (Pinned to $all with a filter)', async () => {
      const prefix = `pinned${randomUUID().slice(0, 8)}-`;
      const group = `pinned-${randomUUID()}`;
      await client.createPersistentSubscriptionToAll(group, persistentSubscriptionToAllSettingsFromDefaults({ startFrom: END, consumerStrategyName: 'Pinned' }), {
        filter: streamNameFilter({ prefixes: [prefix] }),
      });
      const received = new Map<string, string[]>();
      const subscribers = ['one', 'two'].map((name) => {
        const subscription = client.subscribeToPersistentSubscriptionToAll(group, { bufferSize: 50 });
        subscription.on('data', (resolved) => {
          const key = `${name}|${resolved.event?.streamId}`;
          received.set(key, [...(received.get(key) ?? []), String(resolved.event?.revision)]);
          void subscription.ack(resolved);
        });
        return subscription;
      });
      await waitUntil(async () => (await client.getPersistentSubscriptionToAllInfo(group)).connections.length === 2);
      const streams = Array.from({ length: 8 }, (_, index) => `${prefix}${index}`);
      for (const stream of streams) await client.appendToStream(stream, [event('A'), event('B'), event('C')]);
      await client.appendToStream(streamId('unfiltered'), event('Noise'));
      await waitFor(() => [...received.values()].reduce((total, revisions) => total + revisions.length, 0) === 24);
      for (const stream of streams) {
        const owners = [...received.keys()].filter((key) => key.endsWith(`|${stream}`));
        expect(owners).toHaveLength(1);
        expect(received.get(owners[0] as string)).toEqual(['0', '1', '2']);
      }
      expect(new Set([...received.keys()].map((key) => key.split('|')[0])).size).toBe(2);
      await Promise.all(subscribers.map((subscription) => subscription.unsubscribe()));
    });

    it('rotates RoundRobin and fills the first consumer with DispatchToSingle', async () => {
      for (const [strategy, expected] of [
        ['RoundRobin', 2],
        ['DispatchToSingle', 1],
      ] as const) {
        const stream = streamId();
        const group = `strategy-${strategy}`;
        await client.createPersistentSubscriptionToStream(stream, group, settingsFor({ consumerStrategyName: strategy }));
        const owners = new Set<number>();
        const subscriptions = [0, 1].map((index) => {
          const subscription = client.subscribeToPersistentSubscriptionToStream(stream, group, { bufferSize: 10 });
          subscription.on('data', (resolved) => {
            owners.add(index);
            void subscription.ack(resolved);
          });
          return subscription;
        });
        await waitUntil(async () => (await client.getPersistentSubscriptionToStreamInfo(stream, group)).connections.length === 2);
        await client.appendToStream(stream, ['A', 'B', 'C', 'D'].map((type) => event(type)));
        await settle(150);
        expect(owners.size).toBe(expected);
        await Promise.all(subscriptions.map((subscription) => subscription.unsubscribe()));
      }
    });

    it('redelivers a disconnected consumer’s unacknowledged events to another with retryCount + 1', async () => {
      const stream = streamId();
      const group = 'handover';
      await client.appendToStream(stream, [event('A'), event('B')]);
      await client.createPersistentSubscriptionToStream(stream, group, settingsFor());
      const first = consume(stream, group);
      await waitFor(() => first.received.length === 2);
      const second = consume(stream, group);
      await settle(100);
      expect(second.received).toHaveLength(0);
      await first.subscription.unsubscribe();
      await waitFor(() => second.received.length === 2);
      expect(second.received.map((item) => [item.type, item.retryCount])).toEqual([
        ['A', 1],
        ['B', 1],
      ]);
      await second.subscription.unsubscribe();
    });

    it('starts a $all group from a position, inclusively', async () => {
      const prefix = `from${randomUUID().slice(0, 8)}-`;
      await client.appendToStream(`${prefix}a`, event('Before'));
      const start = await client.appendToStream(`${prefix}a`, event('At'));
      await client.appendToStream(`${prefix}a`, event('After'));
      const group = `from-${randomUUID()}`;
      await client.createPersistentSubscriptionToAll(group, persistentSubscriptionToAllSettingsFromDefaults({ startFrom: start.position as Position }), {
        filter: streamNameFilter({ prefixes: [prefix] }),
      });
      const subscription = client.subscribeToPersistentSubscriptionToAll(group);
      const received: string[] = [];
      subscription.on('data', (resolved) => {
        received.push(resolved.event?.type ?? '?');
        void subscription.ack(resolved);
      });
      await waitFor(() => received.length === 2);
      expect(received).toEqual(['At', 'After']);
      await subscription.unsubscribe();
      const info = await client.getPersistentSubscriptionToAllInfo(group);
      expect(info.settings.startFrom).toEqual(start.position);
      expect(info.eventSource).toBe('$all');
    });

    it('starts a stream group from the end: only events appended after creation', async () => {
      const stream = streamId();
      await client.appendToStream(stream, event('Before'));
      await client.createPersistentSubscriptionToStream(stream, 'from-end', settingsFor({ startFrom: END }));
      await client.appendToStream(stream, event('After'));
      const { subscription, received } = consume(stream, 'from-end');
      await waitFor(() => received.length === 1);
      await settle(50);
      expect(received.map((item) => item.type)).toEqual(['After']);
      await subscription.unsubscribe();
    });

    it('checkpoints acknowledged events in memory and resumes after the checkpoint when updated', async () => {
      const stream = streamId();
      const group = 'checkpointed';
      await client.appendToStream(stream, [event('A'), event('B')]);
      await client.createPersistentSubscriptionToStream(stream, group, settingsFor({ checkPointAfter: 100, checkPointLowerBound: 1 }));
      const first = consume(stream, group);
      first.subscription.on('data', (resolved) => void first.subscription.ack(resolved));
      await waitFor(() => first.received.length === 2);
      await waitUntil(async () => (await client.getPersistentSubscriptionToStreamInfo(stream, group)).stats.lastCheckpointedEventRevision === 1n);
      await first.subscription.unsubscribe();

      await client.updatePersistentSubscriptionToStream(stream, group, settingsFor({ checkPointAfter: 100, checkPointLowerBound: 1 }));
      await client.appendToStream(stream, event('C'));
      const second = consume(stream, group);
      await waitFor(() => second.received.length === 1);
      await settle(50);
      expect(second.received.map((item) => item.type)).toEqual(['C']);
      await second.subscription.unsubscribe();
    });

    it('reports info and lists groups, and answers does-not-exist for missing ones', async () => {
      const stream = streamId();
      await client.createPersistentSubscriptionToStream(stream, 'listed', settingsFor({ maxRetryCount: 3, consumerStrategyName: 'Pinned' }));
      const info = await client.getPersistentSubscriptionToStreamInfo(stream, 'listed');
      expect(info).toMatchObject({ eventSource: stream, groupName: 'listed', status: 'Live', settings: { maxRetryCount: 3, consumerStrategyName: 'Pinned', startFrom: START } });
      expect((await client.listPersistentSubscriptionsToStream(stream)).map((item) => item.groupName)).toEqual(['listed']);
      expect((await client.listAllPersistentSubscriptions()).some((item) => item.eventSource === stream)).toBe(true);
      expect(await caught(() => client.listPersistentSubscriptionsToStream(streamId()))).toMatchObject({ type: 'persistent-subscription-does-not-exist' });
      expect(await caught(() => client.getPersistentSubscriptionToStreamInfo(stream, 'missing'))).toMatchObject({
        type: 'persistent-subscription-does-not-exist',
        groupName: 'missing',
      });

      await client.updatePersistentSubscriptionToStream(stream, 'listed', settingsFor({ maxRetryCount: 7 }));
      expect((await client.getPersistentSubscriptionToStreamInfo(stream, 'listed')).settings.maxRetryCount).toBe(7);
    });

    it('fails subscribers of a missing or deleted group with does-not-exist', async () => {
      const stream = streamId();
      const missing = consume(stream, 'nothing-here');
      await waitFor(() => missing.errors.length === 1);
      expect(missing.errors[0]).toMatchObject({ type: 'persistent-subscription-does-not-exist' });

      await client.createPersistentSubscriptionToStream(stream, 'doomed', settingsFor());
      const connected = consume(stream, 'doomed');
      await settle(100);
      await client.deletePersistentSubscriptionToStream(stream, 'doomed');
      await waitFor(() => connected.errors.length === 1);
      expect(connected.errors[0]).toMatchObject({ type: 'persistent-subscription-does-not-exist' });
    });
  });

  describe('faults', () => {
    it('fails the next appends with the chosen status, then works again', async () => {
      emulator.faults.failNext('append', 2, status.UNAVAILABLE);
      const stream = streamId();
      expect(await caught(() => client.appendToStream(stream, event('A')))).toBeInstanceOf(UnavailableError);
      expect(await caught(() => client.appendToStream(stream, event('A')))).toBeInstanceOf(UnavailableError);
      await client.appendToStream(stream, event('A'));
      expect(typesOf(await collect(client.readStream(stream)))).toEqual(['A']);
    });

    it('delays answers', async () => {
      emulator.faults.delay(300);
      const started = Date.now();
      try {
        await client.appendToStream(streamId(), event('A'));
      } finally {
        emulator.faults.delay(0);
      }
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('times out an append whose deadline passed while it was delayed, writing nothing', async () => {
      const stream = streamId();
      emulator.faults.delay(300);
      try {
        expect(await caught(() => client.appendToStream(stream, event('A'), { deadline: 100 }))).toMatchObject({ type: 'deadline-exceeded' });
      } finally {
        emulator.faults.delay(0);
      }
      expect(await caught(() => collect(client.readStream(stream)))).toBeInstanceOf(StreamNotFoundError);
    });

    it('drops connections gracefully: open calls fail, new calls work and the data is kept', async () => {
      const stream = streamId();
      await client.appendToStream(stream, event('A'));
      const subscription = client.subscribeToStream(stream);
      const errors: unknown[] = [];
      let caughtUp = false;
      subscription.on('error', (error) => errors.push(error));
      subscription.on('caughtUp', () => (caughtUp = true));
      await waitFor(() => caughtUp);
      await emulator.faults.dropConnections({ graceful: true });
      await waitFor(() => errors.length === 1);
      expect(errors[0]).toBeInstanceOf(UnavailableError);
      await client.appendToStream(stream, event('B'));
      expect(typesOf(await collect(client.readStream(stream)))).toEqual(['A', 'B']);
    });

    it('keeps persistent subscription state through a drop: unacknowledged events come back to the next subscriber', async () => {
      const stream = streamId();
      const group = 'survives-drop';
      await client.appendToStream(stream, [event('A'), event('B')]);
      await client.createPersistentSubscriptionToStream(stream, group, settingsFor());
      const first = client.subscribeToPersistentSubscriptionToStream(stream, group);
      const firstReceived: string[] = [];
      const firstErrors: unknown[] = [];
      first.on('data', (resolved) => {
        firstReceived.push(resolved.event?.type ?? '?');
        if (resolved.event?.type === 'A') void first.ack(resolved);
      });
      first.on('error', (error) => firstErrors.push(error));
      await waitFor(() => firstReceived.length === 2);
      await settle(50);
      await emulator.faults.dropConnections({ graceful: true });
      await waitFor(() => firstErrors.length === 1);

      const second = client.subscribeToPersistentSubscriptionToStream(stream, group);
      const secondReceived: [string, number][] = [];
      second.on('data', (resolved) => {
        secondReceived.push([resolved.event?.type ?? '?', resolved.retryCount]);
        void second.ack(resolved);
      });
      await waitFor(() => secondReceived.length === 1);
      await settle(50);
      expect(secondReceived).toEqual([['B', 1]]);
      await second.unsubscribe();
    });

    it('drops connections with a reset: the next call fails or succeeds, the one after works', async () => {
      const stream = streamId();
      await client.appendToStream(stream, event('A'));
      await emulator.faults.dropConnections({ graceful: false, reset: true });
      await client.appendToStream(stream, event('B')).catch((error: unknown) => expect(error).toBeInstanceOf(UnavailableError));
      await client.appendToStream(stream, event('C'));
      expect((await collect(client.readStream(stream))).length).toBeGreaterThanOrEqual(2);
    });

    it('drops connections silently: calls get no answer until keepalive finds the dead connection, then work', async () => {
      const patient = EventStoreDBClient.connectionString(`${emulator.connectionString}&keepAliveInterval=500&keepAliveTimeout=500`);
      try {
        const stream = streamId();
        await patient.appendToStream(stream, event('A'));
        await emulator.faults.dropConnections({ graceful: false });
        const error = await caught(() => patient.appendToStream(stream, event('B'), { deadline: 300 }));
        expect(error).toMatchObject({ type: expect.stringMatching(/deadline-exceeded|unavailable/) });
        const deadline = Date.now() + 8_000;
        for (;;) {
          try {
            await patient.appendToStream(stream, event('C'), { deadline: 1_000 });
            break;
          } catch (retryError) {
            if (Date.now() > deadline) throw retryError;
          }
        }
        const types = typesOf(await collect(patient.readStream(stream)));
        expect(types[0]).toBe('A');
        expect(types.at(-1)).toBe('C');
      } finally {
        await patient.dispose();
      }
    });

    it('blackholes: calls get no answer until keepalive gives up, and work again once it is off', async () => {
      const patient = EventStoreDBClient.connectionString(`${emulator.connectionString}&keepAliveInterval=500&keepAliveTimeout=500`);
      try {
        const stream = streamId();
        await patient.appendToStream(stream, event('A'));
        emulator.faults.blackhole(true);
        try {
          // BatchAppend carries its deadline to the server, so only keepalive notices a dead peer.
          const error = await caught(() => patient.appendToStream(stream, event('B'), { deadline: 300 }));
          expect(error).toMatchObject({ type: expect.stringMatching(/deadline-exceeded|unavailable/) });
        } finally {
          emulator.faults.blackhole(false);
        }
        const deadline = Date.now() + 5_000;
        for (;;) {
          try {
            await patient.appendToStream(stream, event('C'), { deadline: 1_000 });
            break;
          } catch (retryError) {
            if (Date.now() > deadline) throw retryError;
          }
        }
        expect(typesOf(await collect(patient.readStream(stream))).at(-1)).toBe('C');
      } finally {
        await patient.dispose();
      }
    });
  });
});
