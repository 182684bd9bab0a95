import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { connectRedis } from '#adapters/redis/connectRedis';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { projectStoredEvent } from '#application/userProjection';
import type { ReadModels } from '#ports/readModels';
import { bundleProjector, seedSqliteEventStore, startProjectorProcess, type ProjectorBundle } from '#test/support/projectorProcess';
import { deleteReadModel, dumpReadModel, uniqueReadModelVersion } from '#test/support/readModelDump';
import { requireRedis, sharedRedisUrl } from '#test/support/redis';
import { tempDir } from '#test/support/tempDir';
import { seededRandom } from '#test/support/userTraffic';

const EVENTS = 20_000;
const KILLS = 6;

/** Builds `version` from scratch with one applyBatch per page of the log: the reference read model. */
const cleanReplay = async (eventsFile: string, readModels: ReadModels): Promise<void> => {
  const store = createSqliteEventStore({ path: eventsFile });
  try {
    for (let from = 1n; ; ) {
      const page = await store.readAll({ fromPosition: from, maxCount: 5000, streamPrefixes: ['user-'] });
      const last = page.at(-1);
      if (last === undefined) return;
      const outcomes = await readModels.applyBatch(page.map((event) => projectStoredEvent(event)), last.position);
      expect(new Set(outcomes)).toEqual(new Set(['applied']));
      from = last.position + 1n;
    }
  } finally {
    await store.close();
  }
};

describe('the projector under SIGKILL', () => {
  const dir = tempDir('chronicle-crash-');
  const eventsFile = path.join(dir.path, 'events.sqlite');
  const crashedVersion = uniqueReadModelVersion();
  const replayedVersion = crashedVersion + 1;
  const redis = createClient({ url: sharedRedisUrl() });
  let bundle: ProjectorBundle | undefined;

  // Vitest 4 gives beforeAll no skip(); the test context's does the same job.
  beforeEach(async ({ skip }) => {
    await requireRedis(skip);
    if (!redis.isOpen) await redis.connect();
    bundle ??= await bundleProjector();
  });
  afterAll(async () => {
    if (redis.isOpen) {
      await deleteReadModel(redis, crashedVersion);
      await deleteReadModel(redis, replayedVersion);
      await redis.quit();
    }
    bundle?.remove();
    dir.remove();
  });

  it('ends with the read model a clean replay builds, however often it was killed', { timeout: 55_000 }, async () => {
    const startedAt = Date.now();
    const head = await seedSqliteEventStore(eventsFile, EVENTS, 42);
    const seededAt = Date.now();
    const client = await connectRedis(sharedRedisUrl());
    const readModels = createRedisReadModels({ client, version: crashedVersion, ownsClient: true });
    const random = seededRandom(crashedVersion);
    const env = { DATA_DIR: dir.path, REDIS_URL: sharedRedisUrl(), READ_MODEL_VERSION: String(crashedVersion), PROJECTOR_BATCH_MAX_WAIT_MS: '5' };

    try {
      // Small batches make many write→ack windows for a kill to land in.
      const checkpoints: Array<bigint | null> = [];
      for (let kill = 0; kill < KILLS; kill++) {
        const projector = startProjectorProcess({ ...env, PROJECTOR_BATCH_SIZE: String(5 + Math.floor(random() * 60)) }, bundle);
        await projector.waitForLog('subscribed');
        // Kill once it is writing: after its first checkpoint move, at a random moment.
        const before = checkpoints.at(-1) ?? null;
        const movedBy = Date.now() + 15_000;
        while ((await readModels.getCheckpoint()) === before && projector.child.exitCode === null) {
          if (Date.now() > movedBy) throw new Error(`projector ${kill + 1} did not move the checkpoint from ${before} within 15 s`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await new Promise((resolve) => setTimeout(resolve, random() * 300));
        expect((await projector.kill('SIGKILL')).signal).toBe('SIGKILL');
        checkpoints.push(await readModels.getCheckpoint());
        // On a fast run a projector may finish before its kill: the next one would have nothing to move.
        if (checkpoints.at(-1) === head) break;
      }
      // The kills must have landed mid-run for the test to mean anything.
      expect(checkpoints.filter((c) => c !== null && c < head).length).toBeGreaterThanOrEqual(3);

      const last = startProjectorProcess({ ...env, PROJECTOR_BATCH_SIZE: '500' }, bundle);
      // The last kill may have come after the head was reached: without this the SIGTERM could
      // land before the process even ran its first line, and Node would die of it.
      await last.waitForLog('subscribed');
      const deadline = Date.now() + 30_000;
      while ((await readModels.getCheckpoint()) !== head) {
        if (Date.now() > deadline) throw new Error(`checkpoint stuck at ${await readModels.getCheckpoint()} of ${head}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await last.kill('SIGTERM')).toEqual({ code: 0, signal: null });
      console.info(`seeded ${EVENTS} events in ${seededAt - startedAt} ms; ${KILLS} kills at checkpoints ${checkpoints.join(', ')}; caught up after ${Date.now() - seededAt} ms`);
    } finally {
      await readModels.close();
    }

    const replayClient = await connectRedis(sharedRedisUrl());
    const replayed = createRedisReadModels({ client: replayClient, version: replayedVersion, ownsClient: true });
    try {
      await cleanReplay(eventsFile, replayed);
    } finally {
      await replayed.close();
    }
    const [crashed, reference] = await Promise.all([dumpReadModel(redis, crashedVersion), dumpReadModel(redis, replayedVersion)]);
    expect(reference.size).toBeGreaterThan(EVENTS / 2);
    expect([...crashed.keys()].sort()).toEqual([...reference.keys()].sort());
    const differing = [...reference.keys()].filter((key) => JSON.stringify(crashed.get(key)) !== JSON.stringify(reference.get(key)));
    expect(differing.slice(0, 5).map((key) => ({ key, crashed: crashed.get(key), reference: reference.get(key) }))).toEqual([]);
  });
});
