import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import type { AppendWorkerReport } from '#test/support/appendWorker';
import { tempDir } from '#test/support/tempDir';

const WORKERS = 3;
const EVENTS_PER_MODE = 40;
const worker = path.resolve('test/support/appendWorker.ts');

/** Starts a worker; resolves `ready` once it has loaded, and `report` when it is done. */
const startWorker = (file: string, name: string) => {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, file, name, String(EVENTS_PER_MODE)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const report = new Promise<AppendWorkerReport>((resolve, reject) => {
    let result: AppendWorkerReport | undefined;
    lines.on('line', (line) => {
      if (line === 'ready') markReady();
      else if (line.startsWith('{')) result = JSON.parse(line) as AppendWorkerReport;
    });
    child.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`worker ${name} exited with ${code}: ${stderr}`))));
  });
  return { ready, report, go: () => child.stdin.end('go\n'), kill: () => child.kill() };
};

describe('sqlite event store shared by several processes', () => {
  it('loses, duplicates and crashes on nothing while processes append to one fresh file at once', { timeout: 60_000 }, async () => {
    const dir = tempDir('chronicle-multiprocess-');
    const file = path.join(dir.path, 'data', 'events.sqlite');
    const workers = Array.from({ length: WORKERS }, (_, n) => startWorker(file, `w${n}`));
    try {
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.go();
      const reports = await Promise.all(workers.map((w) => w.report));

      expect(reports.flatMap((report) => report.failures)).toEqual([]);
      expect(reports.map((report) => report.first).sort()).toEqual(['conflict', 'conflict', 'won']);

      const store = createSqliteEventStore({ path: file });
      try {
        const log = await store.readAll();
        const appended = reports.flatMap((report) => report.appended);
        expect(log).toHaveLength(appended.length);
        expect(new Set(log.map((event) => event.id))).toEqual(new Set(appended.map((event) => event.id)));
        for (let n = 1; n < log.length; n++) expect(log[n]!.position > log[n - 1]!.position).toBe(true);
        for (const report of reports) {
          const positions = report.appended.map((event) => BigInt(event.position));
          for (let n = 1; n < positions.length; n++) expect(positions[n]! > positions[n - 1]!).toBe(true);
        }

        for (const [streamId, expectedLength] of [
          ['user-first', 1],
          ['user-any', WORKERS * EVENTS_PER_MODE],
          ['user-exact', WORKERS * EVENTS_PER_MODE],
        ] as const) {
          const stream = await store.readStream(streamId);
          expect(stream.map((event) => event.revision)).toEqual(Array.from({ length: expectedLength }, (_, n) => BigInt(n)));
        }
        // Workers reread after each conflict, with a pause between read and append: races happen and are reported.
        expect(reports.reduce((sum, report) => sum + report.conflicts, 0)).toBeGreaterThan(0);
      } finally {
        await store.close();
      }
    } finally {
      for (const w of workers) w.kill();
      dir.remove();
    }
  });
});
