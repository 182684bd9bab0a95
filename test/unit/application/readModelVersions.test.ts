import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { createMemoryReadModelRegistry } from '#adapters/memory/memoryReadModelRegistry';
import { createMemoryReadModels } from '#adapters/memory/memoryReadModels';
import { createActiveReadModelReader } from '#application/activeReadModels';
import { catchUpReadModel } from '#application/catchUpReadModel';
import { foldProjectedEvents } from '#application/foldProjectedEvents';
import { activateReadModelVersion, readModelStatus, rebuildReadModelVersion } from '#application/readModelVersions';
import { projectStoredEvent } from '#application/userProjection';
import { verifyReadModel } from '#application/verifyReadModel';
import { isChronicleError } from '#domain/errors';
import type { EventStore } from '#ports/eventStore';
import type { ProjectedEvent, ReadModelReader, ReadModels } from '#ports/readModels';
import { memoryUserKeys } from '#test/support/memoryUserKeys';
import { generateUserTraffic } from '#test/support/userTraffic';

const seededLog = async (events: number, seed = 7): Promise<EventStore> => {
  const eventStore = createMemoryEventStore();
  for (const { streamId, event } of generateUserTraffic(events, { seed })) await eventStore.appendToStream(streamId, [event], { expectedRevision: 'any' });
  return eventStore;
};

/** What the live projector would write: every event, one at a time, in log order. */
const replayOneByOne = async (eventStore: EventStore): Promise<ReadModels> => {
  const readModels = createMemoryReadModels();
  const events = await eventStore.readAll({ streamPrefixes: ['user-'] });
  for (const event of events) await readModels.applyBatch([projectStoredEvent(event)], event.position);
  return readModels;
};

/** Everything a reader sees, for comparing two read models. */
const picture = async (readModels: ReadModelReader) => {
  const users: unknown[] = [];
  for (let cursor: string | null = null; ; ) {
    const page = await readModels.listUsers({ limit: 100, cursor });
    for (const user of page.items) users.push({ ...user, owner: await readModels.findUserIdByEmail(user.email), applied: await readModels.getAppliedRevision(`user-${user.id}`) });
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return { users, active: await readModels.countUsers('active'), suspended: await readModels.countUsers('suspended') };
};

const codeOf = async (work: Promise<unknown>): Promise<unknown> => {
  const error = await work.then(() => null, (e: unknown) => e);
  return isChronicleError(error) ? error.code : error;
};

describe('folding projected events', () => {
  const userId = randomUUID();
  const created: ProjectedEvent = {
    streamId: `user-${userId}`,
    revision: 0n,
    position: 1n,
    changes: [{ type: 'userCreated', user: { id: userId, email: 'a@example.com', displayName: 'A', status: 'active', emailVerified: false, registeredAt: '2026-01-01T00:00:00.000Z' } }],
  };
  const patch = (revision: bigint, position: bigint, fields: object): ProjectedEvent => ({
    streamId: `user-${userId}`,
    revision,
    position,
    changes: [{ type: 'userPatched', userId, fields }],
  });
  const other: ProjectedEvent = { ...created, streamId: 'user-other', position: 2n };

  it('folds a stream’s consecutive events into one creation spanning their revisions', () => {
    const folded = foldProjectedEvents([created, other, patch(1n, 3n, { email: 'b@example.com' }), patch(2n, 4n, { status: 'suspended' })]);
    expect(folded).toEqual([
      { ...other, firstRevision: 0n },
      {
        streamId: `user-${userId}`,
        firstRevision: 0n,
        revision: 2n,
        position: 4n,
        changes: [{ type: 'userCreated', user: expect.objectContaining({ email: 'b@example.com', status: 'suspended' }) }],
      },
    ]);
  });

  it('merges patches, a later field winning', () => {
    const [folded] = foldProjectedEvents([patch(3n, 5n, { status: 'suspended' }), patch(4n, 6n, { status: 'active', emailVerified: true })]);
    expect(folded).toMatchObject({ firstRevision: 3n, revision: 4n, changes: [{ type: 'userPatched', fields: { status: 'active', emailVerified: true } }] });
  });

  it('starts a new fold after a missing revision', () => {
    expect(foldProjectedEvents([created, patch(2n, 4n, { status: 'suspended' })]).map((event) => [event.firstRevision, event.revision])).toEqual([
      [0n, 0n],
      [2n, 2n],
    ]);
  });
});

describe('catching a read-model version up from the log', () => {
  it('ends as the live projector would, one event at a time', async () => {
    const eventStore = await seededLog(600);
    const readModels = createMemoryReadModels();
    const progress = await catchUpReadModel({ eventStore, readModels }, { pageSize: 97 });
    expect(progress).toMatchObject({ events: 600, poisoned: 0, held: 0, position: await eventStore.headPosition() });
    expect(await picture(readModels)).toEqual(await picture(await replayOneByOne(eventStore)));
  });

  it('resumes from its checkpoint after an interruption', async () => {
    const eventStore = await seededLog(400);
    const readModels = createMemoryReadModels();
    const stop = new AbortController();
    await catchUpReadModel({ eventStore, readModels }, { pageSize: 50, signal: stop.signal, onProgress: (p) => (p.events >= 150 ? stop.abort() : undefined) });
    expect(await readModels.getCheckpoint()).toBe(150n);
    const rest = await catchUpReadModel({ eventStore, readModels }, { pageSize: 50 });
    expect(rest.events).toBe(250);
    expect(await picture(readModels)).toEqual(await picture(await replayOneByOne(eventStore)));
  });

  it('folds segments of several pages, written in parts, to the same end', async () => {
    const eventStore = await seededLog(700);
    const readModels = createMemoryReadModels();
    const progress = await catchUpReadModel({ eventStore, readModels }, { pageSize: 60, segmentSize: 250 });
    expect(progress).toMatchObject({ events: 700, held: 0, position: await eventStore.headPosition() });
    expect(await picture(readModels)).toEqual(await picture(await replayOneByOne(eventStore)));
  });

  it('stays right with two catch-ups of one version running at once', async () => {
    const eventStore = await seededLog(500);
    const readModels = createMemoryReadModels();
    await Promise.all([catchUpReadModel({ eventStore, readModels }, { pageSize: 64 }), catchUpReadModel({ eventStore, readModels }, { pageSize: 41 })]);
    expect(await picture(readModels)).toEqual(await picture(await replayOneByOne(eventStore)));
  });

  it('skips an event its projection throws on, holding back the rest of that stream', async () => {
    const eventStore = await seededLog(200);
    const [victim] = await eventStore.readAll({ maxCount: 1 });
    const poisoned: string[] = [];
    const progress = await catchUpReadModel(
      {
        eventStore,
        readModels: createMemoryReadModels(),
        prepareBatch: async () => (event) => {
          if (event.id === victim?.id) throw new Error('poison');
          return projectStoredEvent(event);
        },
      },
      { onPoison: (event) => poisoned.push(event.id) },
    );
    expect(poisoned).toEqual([victim?.id]);
    expect(progress.poisoned).toBe(1);
  });
});

describe('read-model versions', () => {
  const setup = async (events = 300) => {
    const eventStore = await seededLog(events);
    const registry = createMemoryReadModelRegistry();
    return { eventStore, registry, deps: { eventStore, registry } };
  };

  it('rebuilds a version, which goes live, and says whether it continued an earlier run', async () => {
    const { registry, deps } = await setup();
    const stop = new AbortController();
    const first = await rebuildReadModelVersion(deps, 2, { projection: 1, pageSize: 50, segmentSize: 50, signal: stop.signal, onProgress: () => stop.abort() });
    expect(first).toMatchObject({ fresh: true, state: 'building' });
    expect(first.position).toBeLessThan(300n);
    const second = await rebuildReadModelVersion(deps, 2, { projection: 1, pageSize: 50 });
    expect(second).toMatchObject({ fresh: false, state: 'live', events: 300 - Number(first.position) });
    expect((await registry.getVersion(2))?.state).toBe('live');
  });

  it('refuses to rebuild a retired version or one of other projection code', async () => {
    const { registry, deps } = await setup(10);
    await rebuildReadModelVersion(deps, 1, { projection: 1 });
    await rebuildReadModelVersion(deps, 2, { projection: 1 });
    await registry.activateVersion(1);
    await registry.activateVersion(2);
    expect(await codeOf(rebuildReadModelVersion(deps, 1, { projection: 1 }))).toBe('VERSION_RETIRED');
    expect(await codeOf(rebuildReadModelVersion(deps, 2, { projection: 3 }))).toBe('VERSION_OTHER_PROJECTION');
  });

  it('activates a caught-up version, refuses a lagging one unless forced', async () => {
    const { eventStore, registry, deps } = await setup(300);
    await rebuildReadModelVersion(deps, 1, { projection: 1 });
    await activateReadModelVersion(deps, 1);
    await rebuildReadModelVersion(deps, 2, { projection: 1, pageSize: 50 });
    for (const { streamId, event } of generateUserTraffic(150, { seed: 99 })) await eventStore.appendToStream(streamId, [event], { expectedRevision: 'any' });
    expect(await codeOf(activateReadModelVersion(deps, 2, { maxLag: 100 }))).toBe('VERSION_LAGGING');
    expect(await registry.getActiveVersion()).toBe(1);
    expect(await activateReadModelVersion(deps, 2, { maxLag: 100, force: true })).toMatchObject({ previous: 1, lag: 101 });
    expect(await registry.getActiveVersion()).toBe(2);
  });

  it('reports each version’s state, checkpoint, lag and count, and which is active', async () => {
    const { eventStore, registry, deps } = await setup(120);
    await rebuildReadModelVersion(deps, 1, { projection: 1 });
    await registry.activateVersion(1);
    await registry.registerVersion(2, 1);
    const status = await readModelStatus(deps);
    expect(status.active).toBe(1);
    expect(status.head).toBe(await eventStore.headPosition());
    expect(status.versions.map((v) => [v.version, v.state, v.active, v.lag, v.checkpoint])).toEqual([
      [1, 'live', true, 0, status.head],
      [2, 'building', false, 120, null],
    ]);
    expect(status.versions[0]?.users).toBeGreaterThan(0);
  });

  it('verifies a version against a fold of the log, reporting each difference', async () => {
    const { eventStore, registry, deps } = await setup(300);
    await rebuildReadModelVersion(deps, 1, { projection: 1 });
    const readModels = registry.readModels(1);
    expect(await verifyReadModel({ eventStore, keys: memoryUserKeys(), readModels })).toMatchObject({ differences: [] });
    const [victim] = (await readModels.listUsers({ limit: 1 })).items;
    if (victim === undefined) throw new Error('no user');
    // Drift: a write no event explains.
    await readModels.applyBatch([{ streamId: `user-${victim.id}`, revision: victim.revision + 1n, position: 1n, changes: [{ type: 'userPatched', userId: victim.id, fields: { displayName: 'Drifted' } }] }], null);
    const result = await verifyReadModel({ eventStore, keys: memoryUserKeys(), readModels });
    expect(result.differences).toContainEqual({ userId: victim.id, field: 'revision', expected: String(victim.revision), actual: String(victim.revision + 1n) });
    const sampled = await verifyReadModel({ eventStore, keys: memoryUserKeys(), readModels }, { sample: 5 });
    expect(sampled.checked).toBe(5);
  });

  it('reports a user the read model lists that no stream in the log explains, on a full verify only', async () => {
    const { eventStore, registry, deps } = await setup(60);
    await rebuildReadModelVersion(deps, 1, { projection: 1 });
    const readModels = registry.readModels(1);
    const ghost = '00000000-0000-4000-8000-000000000042';
    const user = { id: ghost, email: 'ghost@example.com', displayName: 'Ghost', status: 'active' as const, emailVerified: false, registeredAt: '2020-01-01T00:00:00.000Z' };
    await readModels.applyBatch([{ streamId: `user-${ghost}`, revision: 0n, position: 1n, changes: [{ type: 'userCreated', user }] }], null);
    const full = await verifyReadModel({ eventStore, keys: memoryUserKeys(), readModels });
    expect(full.differences).toEqual([{ userId: ghost, field: 'listing', expected: null, actual: 'active' }]);
    const sampled = await verifyReadModel({ eventStore, keys: memoryUserKeys(), readModels }, { sample: 5 });
    expect(sampled.differences).toEqual([]);
  });

  it('sends queries to the active version, switching within the cache time', async () => {
    const { deps, registry } = await setup(50);
    await rebuildReadModelVersion(deps, 1, { projection: 1 });
    await registry.activateVersion(1);
    let now = 0;
    const reader = createActiveReadModelReader(registry, { fallbackVersion: 1, cacheMs: 1_000, now: () => now });
    expect(await reader.activeVersion()).toBe(1);
    await registry.registerVersion(2, 1);
    await registry.activateVersion(2);
    expect(await reader.activeVersion()).toBe(1);
    expect(await reader.countUsers('active')).toBeGreaterThan(0);
    now = 1_000;
    expect(await reader.activeVersion()).toBe(2);
    expect(await reader.countUsers('active')).toBe(0);
  });

  it('falls back to the configured version while none was ever activated', async () => {
    const reader = createActiveReadModelReader(createMemoryReadModelRegistry(), { fallbackVersion: 4 });
    expect(await reader.activeVersion()).toBe(4);
  });
});
