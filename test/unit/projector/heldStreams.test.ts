import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryEventSource } from '#adapters/memory/memoryEventSource';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { createMemoryReadModels } from '#adapters/memory/memoryReadModels';
import { getUser } from '#application/userQueries';
import { projectStoredEvent } from '#application/userProjection';
import type { EventStore, NewEvent, StoredEvent } from '#ports/eventStore';
import { createProjector, type Projector } from '#projector/createProjector';
import { eventually } from '#test/support/waiting';

const settings = {
  batchSize: 50,
  batchMaxWaitMs: 5,
  maxInFlight: 500,
  healthPort: null,
  retry: { baseDelayMs: 1, maxDelayMs: 5, maxElapsedMs: 200 },
  maxRetryCount: 3,
  newerSchemaWaitMs: 20,
};

const running: Projector[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

const at = '2024-05-01T10:00:00.000Z';
const meta = (schemaVersion = 1) => ({ schemaVersion, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: at });
const registered = (userId: string): NewEvent => ({ id: randomUUID(), type: 'UserRegistered', data: { userId, email: `${userId}@example.com`, displayName: 'Ada', registeredAt: at }, metadata: meta() });
const suspended = (userId: string): NewEvent => ({ id: randomUUID(), type: 'UserSuspended', data: { userId, reason: 'spam', suspendedAt: at }, metadata: meta() });
const reactivated = (userId: string): NewEvent => ({ id: randomUUID(), type: 'UserReactivated', data: { userId, reactivatedAt: at }, metadata: meta() });
const renamed = (userId: string, email: string): NewEvent => ({ id: randomUUID(), type: 'EmailChanged', data: { userId, email, changedAt: at, verified: false }, metadata: meta() });

const setup = async (project: (event: StoredEvent) => ReturnType<typeof projectStoredEvent> = projectStoredEvent) => {
  const store: EventStore = createMemoryEventStore();
  const source = createMemoryEventSource(store, { maxRetryCount: settings.maxRetryCount });
  const readModels = createMemoryReadModels();
  const projector = createProjector({ source, readModels, eventStore: store, settings, project });
  running.push(projector);
  await projector.start();
  return { store, source, readModels, projector };
};

describe('a stream with a parked event', () => {
  it('holds its later events instead of parking them one by one, reads say stale, and a replay releases them in order', async () => {
    const userId = randomUUID();
    const other = randomUUID();
    let broken = true;
    const { store, source, readModels, projector } = await setup((event) => {
      if (broken && event.type === 'UserSuspended') throw new Error('projection bug');
      return projectStoredEvent(event);
    });
    await store.appendToStream(`user-${userId}`, [registered(userId)], { expectedRevision: 'no_stream' });
    await store.appendToStream(`user-${userId}`, [suspended(userId)], { expectedRevision: 0n });
    await store.appendToStream(`user-${userId}`, [reactivated(userId)], { expectedRevision: 1n });
    await store.appendToStream(`user-${userId}`, [renamed(userId, 'new@example.com')], { expectedRevision: 2n });
    await store.appendToStream(`user-${other}`, [registered(other)], { expectedRevision: 'no_stream' });
    const head = await store.headPosition();

    await eventually(async () => expect(await readModels.getCheckpoint()).toBe(head));
    expect((await source.list()).map((parked) => parked.event.revision)).toEqual([1n]);
    expect(await readModels.getHeldStream(`user-${userId}`)).toMatchObject({ revision: 1n, reason: 'projection bug' });
    expect(await readModels.getUser(userId)).toMatchObject({ revision: 0n, email: `${userId}@example.com` });
    const metrics = await projector.metrics.registry.metrics();
    expect(metrics).toContain('chronicle_projector_held_events_total 2');
    expect(metrics).toContain('chronicle_projector_parked_events_total 1');
    const deps = { readModels, consistencyWaitMs: 0 };
    expect((await getUser(deps, userId)).stale).toBe(true);
    expect((await getUser(deps, other)).stale).toBe(false);

    broken = false;
    expect(await source.replay()).toBe(1);
    await eventually(async () => expect(await readModels.getHeldStream(`user-${userId}`)).toBeNull());
    expect(await readModels.getUser(userId)).toMatchObject({ revision: 3n, status: 'active', email: 'new@example.com' });
    expect((await getUser(deps, userId)).stale).toBe(false);
    expect(await source.list()).toEqual([]);
  });

  it('holds the stream of an event parked after its predecessor never came', async () => {
    const userId = randomUUID();
    const { store, readModels } = await setup();
    // Revision 0 is malformed in a way no fix of the code makes readable: it stays parked.
    await store.appendToStream(`user-${userId}`, [{ ...registered(userId), data: { userId } }], { expectedRevision: 'no_stream' });
    await store.appendToStream(`user-${userId}`, [suspended(userId)], { expectedRevision: 0n });
    await eventually(async () => expect(await readModels.getHeldStream(`user-${userId}`)).toMatchObject({ revision: 0n }));
    await eventually(async () => expect(await readModels.getCheckpoint()).toBe(await store.headPosition()));
  });
});

describe('an event of a newer schema version than the projector knows', () => {
  it('is not parked at once: it goes back to wait for newer code, a metric counts the waits, then it is parked', async () => {
    const userId = randomUUID();
    const { store, source, readModels, projector } = await setup();
    await store.appendToStream(`user-${userId}`, [registered(userId)], { expectedRevision: 'no_stream' });
    await store.appendToStream(`user-${userId}`, [{ ...suspended(userId), metadata: meta(9) }], { expectedRevision: 0n });
    await eventually(async () => expect((await projector.metrics.registry.metrics())).toMatch(/chronicle_projector_newer_schema_waits_total [1-9]/));
    expect(await source.list()).toEqual([]);
    // Bounded: after maxRetryCount deliveries it is parked (to be replayed by newer code), and the stream held.
    await eventually(async () => expect((await source.list()).map((parked) => parked.reason)).toEqual([expect.stringContaining('newer than this code knows')]));
    expect(await readModels.getHeldStream(`user-${userId}`)).toMatchObject({ revision: 1n });
  });
});
