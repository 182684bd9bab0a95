import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteEventSource } from '#adapters/sqlite/sqliteEventSource';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { createSqliteReadModels } from '#adapters/sqlite/sqliteReadModels';
import { createProjector } from '#projector/createProjector';
import { tempDir } from '#test/support/tempDir';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const startOnSqlite = async () => {
  const dir = tempDir('chronicle-projector-');
  const eventsFile = path.join(dir.path, 'events.sqlite');
  const store = createSqliteEventStore({ path: eventsFile });
  const source = createSqliteEventSource({ path: eventsFile, pollIntervalMs: 100, maxRetryCount: 5 });
  const readModels = createSqliteReadModels({ path: path.join(dir.path, 'read-models.sqlite') });
  const projector = createProjector({
    source,
    readModels,
    eventStore: store,
    settings: {
      batchSize: 1000,
      batchMaxWaitMs: 50,
      maxInFlight: 10_000,
      healthPort: 0,
      healthHost: '127.0.0.1',
      retry: { baseDelayMs: 10, maxDelayMs: 100, maxElapsedMs: 1000 },
      maxRetryCount: 5,
      lagSampleIntervalMs: 50,
    },
  });
  cleanups.push(dir.remove, () => store.close(), () => source.close(), () => readModels.close(), () => projector.stop());
  const { healthPort } = await projector.start();
  return { store, readModels, projector, baseUrl: `http://127.0.0.1:${healthPort}` };
};

const register = (userId: string) => ({
  id: randomUUID(),
  type: 'UserRegistered',
  data: { userId, email: `${userId}@example.com`, displayName: 'Grace', registeredAt: new Date().toISOString() },
  metadata: { schemaVersion: 1, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: new Date().toISOString() },
});

describe('the projector on the embedded default (SQLite)', () => {
  it('follows a new event within a second', async () => {
    const { store, readModels } = await startOnSqlite();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const userId = randomUUID();
    const appendedAt = Date.now();
    const { position } = await store.appendToStream(`user-${userId}`, [register(userId)], { expectedRevision: 'no_stream' });
    while ((await readModels.getCheckpoint()) !== position) {
      expect(Date.now() - appendedAt).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await readModels.getUser(userId)).toMatchObject({ email: `${userId}@example.com`, status: 'active', revision: 0n });
  });

  it('reports healthy once subscribed and serves Prometheus metrics', async () => {
    const { store, readModels, baseUrl } = await startOnSqlite();
    const userId = randomUUID();
    const { position } = await store.appendToStream(`user-${userId}`, [register(userId)], { expectedRevision: 'no_stream' });
    while ((await readModels.getCheckpoint()) !== position) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const health = await fetch(`${baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const metrics = await fetch(`${baseUrl}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toContain('chronicle_projector_events_applied_total 1');
    expect(text).toContain('chronicle_projector_batches_total 1');
    expect(text).toContain('chronicle_projector_event_latency_seconds_count 1');
    expect(text).toContain('chronicle_projector_lag_positions 0');
    expect(text).toMatch(/chronicle_projector_parked_events_total 0/);
    expect((await fetch(`${baseUrl}/nowhere`)).status).toBe(404);
  });

  it('reports unavailable once stopped', async () => {
    const { projector, baseUrl } = await startOnSqlite();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(projector.status().subscribed).toBe(true);
    await projector.stop();
    expect(projector.status().subscribed).toBe(false);
    expect(await fetch(`${baseUrl}/health`).catch(() => null)).toBeNull();
  });
});
