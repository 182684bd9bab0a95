import net from 'node:net';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { createSqliteReadModels } from '#adapters/sqlite/sqliteReadModels';
import { bundleProjector, seedSqliteEventStore, startProjectorProcess, type ProjectorBundle } from '#test/support/projectorProcess';
import { requireRedis, sharedRedisUrl } from '#test/support/redis';
import { tempDir } from '#test/support/tempDir';

/** A TCP proxy to `target` that holds every connection's traffic back for `delayMs` first: a slow network at start-up. */
const startDelayingProxy = async (target: URL, delayMs: number): Promise<{ readonly url: string; close(): Promise<void> }> => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.pause();
    socket.on('error', () => socket.destroy());
    setTimeout(() => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      sockets.add(upstream);
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      socket.pipe(upstream).pipe(socket);
      socket.resume();
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};

describe('the projector on SIGTERM', () => {
  const dir = tempDir('chronicle-sigterm-');
  let bundle: ProjectorBundle;
  beforeAll(async () => {
    bundle = await bundleProjector();
  });
  afterAll(() => {
    bundle?.remove();
    dir.remove();
  });

  it('stops taking events, finishes its batch, writes the checkpoint and exits 0 in time', { timeout: 40_000 }, async () => {
    const eventsFile = path.join(dir.path, 'events.sqlite');
    const head = await seedSqliteEventStore(eventsFile, 15_000, 5);
    const projector = startProjectorProcess({ DATA_DIR: dir.path, PROJECTOR_BATCH_SIZE: '10', PROJECTOR_SHUTDOWN_TIMEOUT_MS: '5000' }, bundle);
    const readModels = createSqliteReadModels({ path: path.join(dir.path, 'read-models.sqlite') });
    try {
      await projector.waitForLog('subscribed');
      while (((await readModels.getCheckpoint()) ?? 0n) < 500n) await new Promise((resolve) => setTimeout(resolve, 5));

      const signalledAt = Date.now();
      const exit = await projector.kill('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(5000);

      const stopped = projector.logs.find((line) => line.message === 'stopped');
      const checkpoint = await readModels.getCheckpoint();
      expect(stopped?.['checkpoint']).toBe(checkpoint?.toString());
      expect(checkpoint).not.toBeNull();
      expect(checkpoint! < head).toBe(true);

      // Everything up to the checkpoint is applied, nothing after it: the last batch was finished, not half-written.
      const store = createSqliteEventStore({ path: eventsFile });
      const around = await store.readAll({ fromPosition: checkpoint! - 300n, maxCount: 600 });
      await store.close();
      const appliedRevisions = await Promise.all(around.map((event) => readModels.getAppliedRevision(event.streamId)));
      around.forEach((event, i) => {
        const applied = appliedRevisions[i] ?? -1n;
        if (event.position <= checkpoint!) expect(applied >= event.revision, `event at ${event.position} is applied`).toBe(true);
        else expect(applied < event.revision, `event at ${event.position} is not applied`).toBe(true);
      });
    } finally {
      await projector.kill('SIGKILL');
      await readModels.close();
    }
  });

  it('exits 0 on a SIGTERM that arrives while it is still connecting', { timeout: 20_000 }, async ({ skip }) => {
    await requireRedis(skip);
    const proxy = await startDelayingProxy(new URL(sharedRedisUrl()), 1500);
    const projector = startProjectorProcess({ DATA_DIR: dir.path, REDIS_URL: proxy.url, READ_MODEL_VERSION: String(randomInt(100_000, 1_000_000)) }, bundle);
    try {
      await projector.waitForLog('starting');
      expect(await projector.kill('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(projector.logs.map((line) => line.message)).toContain('stopping');
      expect(projector.logs.map((line) => line.message)).not.toContain('projector started');
    } finally {
      await projector.kill('SIGKILL');
      await proxy.close();
    }
  });
});
