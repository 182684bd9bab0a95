import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '#adapters/redis/connectRedis';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { startPersistentRedis, type PersistentRedis } from '#test/support/persistentRedis';
import { freePort } from '#test/support/ports';
import { bundleProjector, seedSqliteEventStore, startProjectorProcess, type ProjectorBundle } from '#test/support/projectorProcess';
import { compareWithCleanReplay } from '#test/support/readModelDump';
import { tempDir } from '#test/support/tempDir';
import { waitFor } from '#test/support/waiting';

const metricValue = (text: string, name: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
};

describe('the projector when Redis restarts under it', () => {
  const dir = tempDir('chronicle-redis-restart-');
  const eventsFile = path.join(dir.path, 'events.sqlite');
  let redis: PersistentRedis;
  let bundle: ProjectorBundle;

  beforeAll(async () => {
    mkdirSync(path.join(dir.path, 'redis'));
    [redis, bundle] = await Promise.all([startPersistentRedis(path.join(dir.path, 'redis')), bundleProjector()]);
  });
  afterAll(async () => {
    await redis?.stop('SIGTERM');
    bundle?.remove();
    dir.remove();
  });

  it('loses nothing and applies nothing twice', { timeout: 50_000 }, async () => {
    await seedSqliteEventStore(eventsFile, 6000, 11);
    const healthPort = await freePort();
    const projector = startProjectorProcess(
      {
        DATA_DIR: dir.path,
        REDIS_URL: redis.url,
        PROJECTOR_HEALTH_PORT: String(healthPort),
        PROJECTOR_BATCH_SIZE: '50',
        PROJECTOR_RETRY_BASE_DELAY_MS: '20',
        PROJECTOR_RETRY_MAX_DELAY_MS: '500',
        PROJECTOR_RETRY_MAX_ELAPSED_MS: '20000',
      },
      bundle,
    );
    const health = async (): Promise<number> => (await fetch(`http://127.0.0.1:${healthPort}/health`).catch(() => null))?.status ?? 0;
    const client = await connectRedis(redis.url, { onError: () => undefined });
    const readModels = createRedisReadModels({ client, version: 1, ownsClient: true });
    try {
      await projector.waitForLog('subscribed');
      await waitFor('the first batches', async () => ((await readModels.getCheckpoint()) ?? 0n) > 500n, 20_000);

      // 1. Redis dies mid-run (SIGKILL: whatever it acknowledged is in its append-only file)
      await redis.stop('SIGKILL');
      const moreEvents = seedSqliteEventStore(eventsFile, 2000, 12);
      await waitFor('/health to report the outage', async () => (await health()) === 503, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await redis.start();
      const head = await moreEvents;

      // 2. the projector catches up once Redis is back
      await waitFor('the checkpoint to reach the head', async () => (await readModels.getCheckpoint().catch(() => null)) === head, 30_000);
      await waitFor('/health to recover', async () => (await health()) === 200, 10_000);
      const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      expect(metricValue(metrics, 'chronicle_projector_retries_total')).toBeGreaterThan(0);
      // Every event applied at most once by this one process, and none missing: a batch that Redis
      // ran but whose reply the kill lost (likelier with a second batch queued behind it) comes
      // back as duplicates. Step 3 checks the effect itself.
      const applied = metricValue(metrics, 'chronicle_projector_events_applied_total');
      expect(applied).toBeLessThanOrEqual(Number(head));
      expect(applied + metricValue(metrics, 'chronicle_projector_duplicate_events_total')).toBeGreaterThanOrEqual(Number(head));
      expect(metricValue(metrics, 'chronicle_projector_parked_events_total')).toBe(0);
      expect(await projector.kill('SIGTERM')).toEqual({ code: 0, signal: null });

      // 3. and its read model is the one a clean replay builds
      const { liveSize, referenceSize, differing } = await compareWithCleanReplay(redis.url, eventsFile, { live: 1, reference: 2 }, head);
      expect(liveSize).toBe(referenceSize);
      expect(differing).toEqual([]);
    } finally {
      await projector.kill('SIGKILL');
      await readModels.close();
    }
  });
});
