import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { createSqliteReadModelRegistry } from '#adapters/sqlite/sqliteReadModelRegistry';
import { activateReadModelVersion, rebuildReadModelVersion } from '#application/readModelVersions';
import { verifyReadModel } from '#application/verifyReadModel';
import { isChronicleError } from '#domain/errors';
import type { EventStore } from '#ports/eventStore';
import type { ReadModelRegistry } from '#ports/readModels';
import { startProductionProjector, type ProductionProjector } from '#test/support/productionProjector';
import { tempDir } from '#test/support/tempDir';
import { memoryUserKeys } from '#test/support/memoryUserKeys';
import { generateUserTraffic } from '#test/support/userTraffic';
import { setTimeout as sleep } from 'node:timers/promises';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});


const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
};

/** The embedded default in a fresh DATA_DIR, with a seeded log and a writer to keep traffic flowing. */
const setup = async (seeded: number) => {
  const dir = tempDir('chronicle-versions-');
  const eventStore = createSqliteEventStore({ path: path.join(dir.path, 'events.sqlite') });
  const registry = createSqliteReadModelRegistry({ path: path.join(dir.path, 'read-models.sqlite') });
  cleanups.push(dir.remove, () => eventStore.close(), () => registry.close());
  for (const { streamId, event } of generateUserTraffic(seeded, { seed: 3 })) await eventStore.appendToStream(streamId, [event], { expectedRevision: 'any' });
  const env = { DATA_DIR: dir.path, PROJECTOR_POLL_INTERVAL_MS: '20', PROJECTOR_BATCH_MAX_WAIT_MS: '10', PROJECTOR_VERSION_CHECK_INTERVAL_MS: '50' };
  const startProjector = async (version: number): Promise<ProductionProjector> => {
    const projector = await startProductionProjector({ ...env, READ_MODEL_VERSION: String(version) });
    cleanups.push(() => projector.stop());
    return projector;
  };
  return { eventStore, registry, startProjector };
};

/** Appends registrations every few ms until stopped; answers how many. */
const traffic = (eventStore: EventStore) => {
  let running = true;
  let count = 0;
  const done = (async () => {
    while (running) {
      const userId = randomUUID();
      const at = new Date().toISOString();
      await eventStore.appendToStream(
        `user-${userId}`,
        [{ id: randomUUID(), type: 'UserRegistered', data: { userId, email: `${userId}@example.com`, displayName: 'Live', registeredAt: at }, metadata: { schemaVersion: 1, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: at } }],
        { expectedRevision: 'no_stream' },
      );
      count++;
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return count;
    },
  };
};

const caughtUp = (registry: ReadModelRegistry, eventStore: EventStore, version: number) => async () =>
  (await registry.readModels(version).getCheckpoint()) === (await eventStore.headPosition());

const usersIn = async (registry: ReadModelRegistry, version: number) =>
  (await registry.readModels(version).countUsers('active')) + (await registry.readModels(version).countUsers('suspended'));

describe('blue/green read models on the embedded default', () => {
  it('rebuilds, activates and drops with traffic flowing, losing no event', async () => {
    const { eventStore, registry, startProjector } = await setup(800);
    await startProjector(1);
    await until('v1 is active and caught up', async () => (await registry.getActiveVersion()) === 1 && (await caughtUp(registry, eventStore, 1)()));

    const writes = traffic(eventStore);
    await rebuildReadModelVersion({ registry, eventStore }, 2, { projection: 1, pageSize: 200 });
    // The running projector keeps the live v2 current; activation waits until it lags little.
    await until('v2 can be activated', async () =>
      activateReadModelVersion({ registry, eventStore }, 2, { maxLag: 20 }).then(
        () => true,
        (error: unknown) => {
          if (isChronicleError(error) && error.code === 'VERSION_LAGGING') return false;
          throw error;
        },
      ),
    );
    expect(await registry.getActiveVersion()).toBe(2);
    await sleep(300);
    expect(await registry.dropVersion(1)).toBeGreaterThan(0);
    await sleep(300);
    const written = await writes.stop();
    expect(written).toBeGreaterThan(20);

    await until('v2 has every event', caughtUp(registry, eventStore, 2));
    expect(await verifyReadModel({ eventStore, keys: memoryUserKeys(), readModels: registry.readModels(2) })).toMatchObject({ differences: [] });
    // Nobody wrote the dropped version back.
    expect(await usersIn(registry, 1)).toBe(0);
    expect(await registry.getVersion(1)).toBeNull();
  }, 60_000);

  it('migrates by itself when a projector starts with a new READ_MODEL_VERSION beside the old one', async () => {
    const { eventStore, registry, startProjector } = await setup(1500);
    const old = await startProjector(1);
    await until('v1 is active and caught up', async () => (await registry.getActiveVersion()) === 1 && (await caughtUp(registry, eventStore, 1)()));

    const writes = traffic(eventStore);
    // A rolling deploy: new tasks start while the old one runs.
    const fresh = await Promise.all([startProjector(3), startProjector(3)]);
    await until('v3 is active', async () => (await registry.getActiveVersion()) === 3);
    expect((await registry.getVersion(1))?.state).toBe('retired');
    await until('the old task sees its version superseded', async () => old.logs.some((log) => log.message === 'own read-model version superseded: acknowledging without writing'));
    await old.stop();
    await sleep(200);
    await writes.stop();

    await until('v3 has every event', caughtUp(registry, eventStore, 3));
    expect(await verifyReadModel({ eventStore, keys: memoryUserKeys(), readModels: registry.readModels(3) })).toMatchObject({ differences: [] });
    expect(fresh.flatMap((task) => task.logs.map((log) => log.message))).toContain('read-model version activated: caught up');
  }, 60_000);
});
