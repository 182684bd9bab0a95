import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceStack, type ServiceStack } from '#test/support/serviceStack';
import { readModelsCli } from './readModelsCli.ts';
import { filesHolding, userApiScenarios } from './userApiScenarios.ts';

describe('user API end to end, on the embedded default (SQLite)', () => {
  let stack: ServiceStack | undefined;
  beforeAll(async () => {
    // A snapshot every 2 events, so the scenarios' users are snapshotted (and the erasure check covers them).
    stack = await startServiceStack({ env: { SNAPSHOT_EVERY: '2' } });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  userApiScenarios(() => {
    if (stack === undefined) throw new Error('the stack did not start');
    return stack;
  }, { eventStore: 'sqlite', readModels: 'sqlite' }, {
    // Every file under DATA_DIR: events, read models, keys, their WAL and SHM files, anything else.
    placesHolding: async (needle) => (stack === undefined ? ['no stack'] : filesHolding(stack.dataDir, needle)),
  });

  it('kept snapshots of the scenarios’ users, sealed, in their own file under DATA_DIR', () => {
    if (stack === undefined) throw new Error('the stack did not start');
    const db = new Database(path.join(stack.dataDir, 'snapshots.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT stream_id, payload FROM snapshots').all() as Array<{ stream_id: string; payload: string }>;
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((row) => row.stream_id.startsWith('user-') && row.payload.startsWith('A256GCM.'))).toBe(true);
    } finally {
      db.close();
    }
  });

  it('logs its requests, and no email address', () => {
    const output = stack?.output() ?? '';
    expect(output).toContain('"route":"POST /users"');
    expect(output).not.toMatch(/[^\s@"]+@example\.com/i);
  });

  // Last: its traffic fills the stack's log window that the logging check above reads.
  it('rebuilds, activates and drops a read-model version through the CLI with traffic flowing, losing no write', async () => {
    if (stack === undefined) throw new Error('the stack did not start');
    const { baseUrl, dataDir } = stack;
    const written: Array<{ id: string; token: string; consistency: string }> = [];
    let flowing = true;
    const traffic = (async () => {
      while (flowing) {
        const subject = `e2e-rm-${randomUUID()}`;
        const token = await stack.token({ subject });
        const response = await fetch(`${baseUrl}/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ email: `rm-${randomUUID().slice(0, 8)}@example.com`, displayName: 'Blue Green' }),
        });
        const body = (await response.json()) as { id: string };
        expect(response.status).toBe(201);
        written.push({ id: body.id, token, consistency: response.headers.get('x-consistency-token') ?? '' });
      }
    })();

    const rebuilt = await readModelsCli(dataDir, 'rebuild', '2');
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.json).toMatchObject({ version: 2, state: 'live', fresh: true });
    let activated = await readModelsCli(dataDir, 'activate', '2');
    for (let attempt = 0; activated.code !== 0 && attempt < 40; attempt++) {
      expect(activated.stderr).toContain('VERSION_LAGGING');
      await new Promise((resolve) => setTimeout(resolve, 250));
      activated = await readModelsCli(dataDir, 'activate', '2');
    }
    expect(activated.code, activated.stderr).toBe(0);
    expect((await readModelsCli(dataDir, 'drop', '2')).stderr).toContain('VERSION_ACTIVE');
    const dropped = await readModelsCli(dataDir, 'drop', '1');
    expect(dropped.code, dropped.stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    flowing = false;
    await traffic;

    // Every write made before, during and after the switch reads back from v2, as its writer's consistency token demands.
    expect(written.length).toBeGreaterThan(3);
    for (const { id, token, consistency } of written) {
      const read = await fetch(`${baseUrl}/users/${id}?consistentWith=${encodeURIComponent(consistency)}`, { headers: { authorization: `Bearer ${token}` } });
      expect(read.status).toBe(200);
      expect(read.headers.get('x-read-model-stale')).toBeNull();
    }
    const status = await readModelsCli(dataDir, 'status');
    expect(status.json).toMatchObject({ active: 2, versions: [{ version: 2, state: 'live', active: true }] });
    const verified = await readModelsCli(dataDir, 'verify', '2');
    expect(verified.code, JSON.stringify(verified.json)).toBe(0);
  }, 120_000);
});
