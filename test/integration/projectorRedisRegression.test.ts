import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '#adapters/redis/connectRedis';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { freePort } from '#test/support/ports';
import { bundleProjector, seedSqliteEventStore, startProjectorProcess, type ProjectorBundle } from '#test/support/projectorProcess';
import { compareWithCleanReplay } from '#test/support/readModelDump';
import { startPrivateRedis, type PrivateRedis } from '#test/support/redis';
import { tempDir } from '#test/support/tempDir';
import { waitFor } from '#test/support/waiting';

describe('the projector when Redis comes back older than it left (failover, restored snapshot)', () => {
  const dir = tempDir('chronicle-redis-regression-');
  const eventsFile = path.join(dir.path, 'events.sqlite');
  // A private redis-server persisting to an RDB file only (SAVE), so a snapshot can be taken and put back.
  const redisDir = path.join(dir.path, 'redis');
  const rdb = path.join(redisDir, 'dump.rdb');
  let redis: PrivateRedis;
  let bundle: ProjectorBundle;

  beforeAll(async () => {
    mkdirSync(redisDir);
    [redis, bundle] = await Promise.all([startPrivateRedis({ dir: redisDir }), bundleProjector()]);
  });
  afterAll(async () => {
    await redis?.stop(true);
    bundle?.remove();
    dir.remove();
  });

  it('notices the checkpoint went backwards and converges to a clean replay', { timeout: 60_000 }, async () => {
    const firstHead = await seedSqliteEventStore(eventsFile, 2000, 21);
    const projector = startProjectorProcess(
      {
        DATA_DIR: dir.path,
        REDIS_URL: redis.url,
        PROJECTOR_HEALTH_PORT: String(await freePort()),
        PROJECTOR_BATCH_SIZE: '100',
        PROJECTOR_RETRY_BASE_DELAY_MS: '20',
        PROJECTOR_RETRY_MAX_DELAY_MS: '300',
        PROJECTOR_RETRY_MAX_ELAPSED_MS: '20000',
      },
      bundle,
    );
    const client = await connectRedis(redis.url, { onError: () => undefined });
    const readModels = createRedisReadModels({ client, version: 1, ownsClient: true });
    const checkpoint = (): Promise<bigint | null> => readModels.getCheckpoint().catch(() => null);
    try {
      // 1. a snapshot of the read model at the first head
      await projector.waitForLog('subscribed');
      await waitFor('the first head', async () => (await checkpoint()) === firstHead, 20_000);
      await client.sendCommand(['SAVE']);
      const snapshot = path.join(dir.path, 'snapshot.rdb');
      copyFileSync(rdb, snapshot);

      // 2. more events, applied and acknowledged
      const secondHead = await seedSqliteEventStore(eventsFile, 1500, 22);
      await waitFor('the second head', async () => (await checkpoint()) === secondHead, 20_000);

      // 3. Redis comes back from the older snapshot: the second batch of events is gone from it
      await redis.stop(true);
      copyFileSync(snapshot, rdb);
      await redis.start();
      await waitFor('the restored checkpoint', async () => (await checkpoint()) === firstHead, 10_000);

      // 4. the projector writes on: it must first replay what the restore lost
      const thirdHead = await seedSqliteEventStore(eventsFile, 500, 23);
      await projector.waitForLog('the read-model checkpoint went backwards (Redis failover or restore): replaying the events it lost', 20_000);
      await waitFor('the third head', async () => (await checkpoint()) === thirdHead, 20_000);
      expect(await projector.kill('SIGTERM')).toEqual({ code: 0, signal: null });

      // 5. the live read model is the one a clean replay of the whole log builds
      const { liveSize, referenceSize, differing } = await compareWithCleanReplay(redis.url, eventsFile, { live: 1, reference: 2 }, thirdHead);
      expect(liveSize).toBe(referenceSize);
      expect(differing).toEqual([]);
    } finally {
      await projector.kill('SIGKILL');
      await readModels.close();
    }
  });
});
