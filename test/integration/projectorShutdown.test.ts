import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { createSqliteReadModels } from '#adapters/sqlite/sqliteReadModels';
import { bundleProjector, seedSqliteEventStore, startProjectorProcess, type ProjectorBundle } from '#test/support/projectorProcess';
import { tempDir } from '#test/support/tempDir';

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
});
