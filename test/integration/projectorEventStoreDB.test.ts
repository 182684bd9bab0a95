import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, createEventStoreDBEventStore, type EventStoreDBClient } from '#adapters/eventstoredb/index';
import { decodeUserEvent } from '#domain/userEventCodec';
import { evolveUser, initialUserState, isRegistered, type UserState } from '#domain/userState';
import { schemaVersionOf, type EventStore, type NewEvent, type StoredEvent } from '#ports/eventStore';
import type { ReadModels, UserView } from '#ports/readModels';
import type { DropOptions, EsdbEmulator } from '#test/support/esdb-emulator/index';
import { startEsdbEmulator } from '#test/support/esdb-emulator/index';
import { startProductionProjector, type ProductionProjector, type ProductionProjectorOptions } from '#test/support/productionProjector';
import { deleteReadModel, dumpReadModel, uniqueReadModelVersion } from '#test/support/readModelDump';
import { requireRedis, sharedRedisUrl } from '#test/support/redis';
import { generateUserTraffic, type TrafficAppend } from '#test/support/userTraffic';
import { subscriptionGroupFor } from '#projector/readModelVersionKeeper';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * The production path end to end: events appended through the EventStoreDB adapter (the real
 * client, over gRPC, to the emulator), the projector composed as main.ts composes it, consuming
 * a persistent subscription and writing Redis read models — while the connections drop.
 *
 * Keepalive is shortened so that a silently dropped connection is noticed in about two seconds
 * (the production 10 s / 5 s behave the same, only slower).
 */
const FAST_KEEPALIVE = 'keepAliveInterval=1000&keepAliveTimeout=1000';
const APPEND_RETRY = { baseDelayMs: 20, maxDelayMs: 300, maxElapsedMs: 10_000, maxAttempts: 30 };
const EVENTS = 3000;
const WRITERS = 8;
const DROPS: readonly { readonly at: number; readonly options: DropOptions }[] = [
  { at: 0.3, options: { graceful: false } },
  { at: 0.42, options: { graceful: false, reset: true } },
  { at: 0.55, options: { graceful: true } },
  { at: 0.68, options: { graceful: false, reset: true } },
  { at: 0.8, options: { graceful: false } },
  { at: 0.92, options: { graceful: true } },
];


const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number, explain: () => string | Promise<string>): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${await explain()}`);
    await sleep(50);
  }
};

/**
 * Appends the traffic one event per call at the exact expected revision, as commands do: each
 * stream belongs to one of `writers` concurrent writers, which keeps its events in order.
 * Answers the ids appended per stream, in order.
 */
const appendConcurrently = async (store: EventStore, traffic: readonly TrafficAppend[], writers: number, onAppended: () => void): Promise<Map<string, string[]>> => {
  const lanes: TrafficAppend[][] = Array.from({ length: writers }, () => []);
  const laneOf = new Map<string, number>();
  for (const append of traffic) {
    if (!laneOf.has(append.streamId)) laneOf.set(append.streamId, laneOf.size % writers);
    lanes[laneOf.get(append.streamId)!]!.push(append);
  }
  const written = new Map<string, string[]>([...laneOf.keys()].map((streamId) => [streamId, []]));
  await Promise.all(
    lanes.map(async (lane) => {
      for (const { streamId, event } of lane) {
        const ids = written.get(streamId)!;
        await store.appendToStream(streamId, [event], { expectedRevision: ids.length === 0 ? 'no_stream' : BigInt(ids.length - 1) });
        ids.push(event.id);
        onAppended();
      }
    }),
  );
  return written;
};

/** The user as a clean fold of its stream with the domain's own evolve, in the read model's shape. */
const foldToView = (events: readonly StoredEvent[]): UserView | null => {
  const state = events.reduce<UserState>(
    (current, event) => {
      const decoded = decodeUserEvent({ streamId: event.streamId, type: event.type, schemaVersion: schemaVersionOf(event), data: event.data }, null);
      return decoded.shredded ? current : evolveUser(current, decoded.event);
    },
    initialUserState(),
  );
  const last = events.at(-1);
  if (!isRegistered(state) || last === undefined) return null;
  return {
    id: state.userId,
    email: state.email,
    displayName: state.displayName,
    status: state.status,
    emailVerified: state.emailVerified,
    registeredAt: state.registeredAt,
    revision: last.revision,
    position: last.position,
  };
};

const sameView = (a: UserView | null, b: UserView | null): boolean =>
  a === null || b === null ? a === b : (Object.keys(b) as (keyof UserView)[]).every((key) => a[key] === b[key]) && Object.keys(a).length === Object.keys(b).length;

const sortedEntries = (entries: Iterable<readonly [string, string]>): Record<string, string> =>
  Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : 1)));

const metricValue = async (projector: ProductionProjector, name: 'eventsApplied' | 'duplicates' | 'resubscriptions' | 'parked'): Promise<number> =>
  (await projector.projector.metrics[name].get()).values[0]?.value ?? 0;

describe('the projector on EventStoreDB and Redis (the production path)', () => {
  const redis = createClient({ url: sharedRedisUrl() });
  const versions: number[] = [];
  let emulator: EsdbEmulator | undefined;
  let client: EventStoreDBClient | undefined;
  let projector: ProductionProjector | undefined;

  beforeEach(async ({ skip }) => {
    await requireRedis(skip);
    if (!redis.isOpen) await redis.connect();
    emulator = await startEsdbEmulator();
    client = createEventStoreDBClient(`${emulator.connectionString}&${FAST_KEEPALIVE}`);
  });
  afterEach(async () => {
    emulator?.faults.reset();
    await projector?.stop();
    if (client) await closeEventStoreDBClient(client);
    await emulator?.stop();
    projector = undefined;
    client = undefined;
    emulator = undefined;
  });
  afterAll(async () => {
    if (!redis.isOpen) return;
    for (const version of versions) await deleteReadModel(redis, version);
    await redis.quit();
  });

  const startProjector = async (
    overrides: Readonly<Record<string, string>> = {},
    options: ProductionProjectorOptions = {},
  ): Promise<{ projector: ProductionProjector; version: number; group: string }> => {
    const version = uniqueReadModelVersion();
    const group = `chronicle-it-${randomUUID()}`;
    versions.push(version);
    projector = await startProductionProjector({
      EVENTSTORE_CONNECTION_STRING: `${emulator!.connectionString}&${FAST_KEEPALIVE}`,
      REDIS_URL: sharedRedisUrl(),
      READ_MODEL_VERSION: String(version),
      PROJECTOR_GROUP: group,
      PROJECTOR_BATCH_SIZE: '100',
      PROJECTOR_BATCH_MAX_WAIT_MS: '10',
      PROJECTOR_RETRY_BASE_DELAY_MS: '20',
      PROJECTOR_RETRY_MAX_DELAY_MS: '300',
      PROJECTOR_RETRY_MAX_ELAPSED_MS: '10000',
      ...overrides,
    }, options);
    return { projector, version, group };
  };

  const waitForCheckpoint = async (running: ProductionProjector, head: bigint, timeoutMs: number): Promise<void> =>
    waitFor(
      `the read-model checkpoint to reach the head (${head})`,
      async () => ((await running.adapters.readModels.getCheckpoint()) ?? -1n) >= head,
      timeoutMs,
      async () => `checkpoint ${await running.adapters.readModels.getCheckpoint()}; projector log:\n${running.tail()}`,
    );

  it(
    'loses no event and resumes by itself when connections drop (silent, reset, graceful) during appends and consumption',
    { timeout: 40_000 },
    async () => {
      const startedAt = Date.now();
      const store = createEventStoreDBEventStore(client!, { retry: APPEND_RETRY, attemptTimeoutMs: 4_000 });
      const seed = Date.now() % 100_000;
      const traffic = [...generateUserTraffic(EVENTS, { seed })];
      let appended = 0;
      let running: ProductionProjector | undefined;
      let version = 0;
      const dropsSeen: { readonly head: bigint | null; readonly checkpoint: bigint | null }[] = [];

      // The projector joins once a fifth of the traffic is in, so that it starts with a backlog
      // and the drops land while it is consuming as well as while commands append.
      const chaos = (async () => {
        while (appended < EVENTS * 0.2) await sleep(5);
        ({ projector: running, version } = await startProjector());
        for (const drop of DROPS) {
          while (appended < EVENTS * drop.at) await sleep(5);
          const [checkpoint, headNow] = await Promise.all([running.adapters.readModels.getCheckpoint(), store.headPosition()]);
          dropsSeen.push({ head: headNow, checkpoint });
          await emulator!.faults.dropConnections(drop.options);
        }
      })();
      const written = await appendConcurrently(store, traffic, WRITERS, () => appended++);
      await chaos;
      const appendedAt = Date.now();
      if (running === undefined) throw new Error('the projector did not start');

      // 1. the projector catches up by itself
      const head = await store.headPosition();
      if (head === null) throw new Error('the log is empty');
      await waitForCheckpoint(running, head, 15_000);
      const caughtUpAt = Date.now();

      // 2. every event is in the log exactly once, in its stream's order
      const streams = new Map<string, StoredEvent[]>();
      const reads = [...written.keys()];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let streamId = reads.pop(); streamId !== undefined; streamId = reads.pop()) streams.set(streamId, await store.readStream(streamId));
        }),
      );
      for (const [streamId, ids] of written) {
        const events = streams.get(streamId)!;
        expect(events.map((event) => event.id), streamId).toEqual(ids);
        expect(events.map((event) => event.revision)).toEqual(ids.map((_, n) => BigInt(n)));
      }
      expect([...streams.values()].reduce((sum, events) => sum + events.length, 0)).toBe(EVENTS);
      const log = await store.readAll({ streamPrefixes: ['user-'] });
      expect(new Set(log.map((event) => event.id)).size).toBe(log.length);
      expect(log.length).toBe(EVENTS);
      expect([...streams.values()].flat().reduce((max, event) => (event.position > max ? event.position : max), 0n)).toBe(head);

      // 3. every user equals a clean fold of its stream; every index matches
      const readModels = running.adapters.readModels;
      const expected = new Map([...streams].map(([streamId, events]) => [streamId, foldToView(events)!]));
      const views = [...expected.values()];
      const actual = await Promise.all(views.map((view) => readModels.getUser(view.id)));
      const differing = views.flatMap((view, i) => (sameView(actual[i] ?? null, view) ? [] : [{ expected: view, actual: actual[i] }]));
      expect(differing.slice(0, 3)).toEqual([]);
      const idsWith = (status: UserView['status']): string[] => views.filter((view) => view.status === status).map((view) => view.id).sort();
      expect(await readModels.countUsers('active')).toBe(idsWith('active').length);
      expect(await readModels.countUsers('suspended')).toBe(idsWith('suspended').length);
      const dump = await dumpReadModel(redis, version);
      expect(dump.get('users:active')).toEqual(idsWith('active'));
      expect(dump.get('users:suspended') ?? []).toEqual(idsWith('suspended'));
      expect(dump.get('users:by-email')).toEqual(sortedEntries(views.map((view) => [view.email, view.id])));
      expect(dump.get('applied')).toEqual(sortedEntries([...streams].map(([streamId, events]) => [streamId, String(events.length - 1)])));

      // 4. nothing parked; the subscription was re-opened after the drops
      expect(await running.adapters.parked.list()).toEqual([]);
      expect(await metricValue(running, 'parked')).toBe(0);
      const resubscriptions = await metricValue(running, 'resubscriptions');
      expect(resubscriptions).toBeGreaterThanOrEqual(DROPS.length - 1);
      // The drops must have hit a projector behind the head of the log (events in hand) for the test to mean anything.
      expect(dropsSeen.filter(({ head: headNow, checkpoint }) => headNow !== null && (checkpoint === null || checkpoint < headNow)).length).toBeGreaterThanOrEqual(DROPS.length - 1);
      const health = await fetch(`http://127.0.0.1:${running.healthPort}/health`);
      expect(health.status).toBe(200);

      console.info(
        `${EVENTS} events (seed ${seed}) over ${streams.size} streams appended in ${appendedAt - startedAt} ms through ${DROPS.length} drops; ` +
          `caught up ${caughtUpAt - appendedAt} ms later after ${resubscriptions} resubscriptions; checkpoint/head at the drops: ${dropsSeen.map((d) => `${d.checkpoint}/${d.head}`).join(', ')}`,
      );
    },
  );

  it('parks a malformed event with its reason in the ESDB parked list, holds the rest of its stream, and projects every other stream', { timeout: 12_000 }, async () => {
    const store = createEventStoreDBEventStore(client!);
    const { projector: running, group, version } = await startProjector({ PROJECTOR_SUBSCRIPTION_MAX_RETRY_COUNT: '3' });
    const traffic = [...generateUserTraffic(200, { seed: 7 })];
    const written = await appendConcurrently(store, traffic, 4, () => undefined);

    // A UserRegistered without displayName, and a valid event after it in the same stream, which
    // is held behind the parked one (acknowledged, not parked one by one) until a replay.
    const poisonUser = randomUUID();
    const poisonStream = `user-${poisonUser}`;
    const at = '2024-05-01T12:00:00.000Z';
    const metadata = () => ({ schemaVersion: 1, $correlationId: randomUUID(), $causationId: randomUUID(), commandId: randomUUID(), occurredAt: at });
    const poison: NewEvent = { id: randomUUID(), type: 'UserRegistered', data: { userId: poisonUser, email: `${poisonUser}@example.com`, registeredAt: at }, metadata: metadata() };
    const stranded: NewEvent = { id: randomUUID(), type: 'UserSuspended', data: { userId: poisonUser, reason: 'spam', suspendedAt: at }, metadata: metadata() };
    await store.appendToStream(poisonStream, [poison], { expectedRevision: 'no_stream' });
    const more = [...generateUserTraffic(100, { seed: 8 })];
    const writtenAfter = await appendConcurrently(store, more, 4, () => undefined);
    const { position: head } = await store.appendToStream(poisonStream, [stranded], { expectedRevision: 0n });

    await waitForCheckpoint(running, head, 8_000);

    const parked = await running.adapters.parked.list();
    expect(parked.map(({ event, reason }) => ({ id: event.id, streamId: event.streamId, reason }))).toEqual([
      { id: poison.id, streamId: poisonStream, reason: expect.stringMatching(/UserRegistered.*malformed/) },
    ]);
    const info = await client!.getPersistentSubscriptionToAllInfo(subscriptionGroupFor(group, version));
    expect(info.stats.parkedMessageCount).toBe(1n);
    expect(await running.adapters.readModels.getHeldStream(poisonStream)).toMatchObject({ revision: 0n });

    const readModels = running.adapters.readModels;
    expect(await readModels.getUser(poisonUser)).toBeNull();
    expect(await readModels.getAppliedRevision(poisonStream)).toBeNull();
    for (const [streamId, ids] of [...written, ...writtenAfter]) {
      const view = foldToView(await store.readStream(streamId));
      expect(await readModels.getAppliedRevision(streamId), streamId).toBe(BigInt(ids.length - 1));
      expect(await readModels.getUser(view!.id)).toEqual(view);
    }
    expect(await metricValue(running, 'parked')).toBe(1);
    expect(await running.projector.metrics.registry.metrics()).toContain('chronicle_projector_held_events_total 1');
  });

  it('counts every event it applies in its metrics, even when the connection drops between the write and the ack', { timeout: 10_000 }, async () => {
    const store = createEventStoreDBEventStore(client!);
    let dropped = false;
    // Right after the first write that applied something, before the batch is acknowledged.
    const dropAfterFirstWrite = (readModels: ReadModels): ReadModels => ({
      ...readModels,
      applyBatch: async (events, checkpoint) => {
        const outcomes = await readModels.applyBatch(events, checkpoint);
        if (!dropped && outcomes.includes('applied')) {
          dropped = true;
          await emulator!.faults.dropConnections({ graceful: true });
        }
        return outcomes;
      },
    });
    const { projector: running } = await startProjector({}, { wrapReadModels: dropAfterFirstWrite });
    const traffic = [...generateUserTraffic(300, { seed: 9 })];
    await appendConcurrently(store, traffic, 4, () => undefined);
    await waitForCheckpoint(running, (await store.headPosition())!, 6_000);

    expect(dropped).toBe(true);
    // The unacknowledged batch came back and was recognised as already written.
    expect(await metricValue(running, 'duplicates')).toBeGreaterThan(0);
    expect(await metricValue(running, 'eventsApplied')).toBe(traffic.length);
  });
});
