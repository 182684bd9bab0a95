/**
 * A child process for test/integration/sqliteMultiProcess.test.ts: appends to one SQLite events
 * file alongside other such processes and reports what happened as one JSON line.
 *
 * Usage: tsx test/support/appendWorker.ts <file> <worker name> <events per mode>
 * It prints "ready", waits for a line on stdin (so that every worker starts at once), then:
 *   1. claims stream user-first with no_stream (exactly one worker may win)
 *   2. appends with 'any' to user-any and to a stream of its own
 *   3. appends with the exact revision it read to user-exact, rereading after each conflict
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { isConcurrencyError } from '#domain/errors';
import type { EventStore, NewEvent } from '#ports/eventStore';

export interface AppendWorkerReport {
  readonly worker: string;
  /** How its no_stream append to user-first ended. */
  readonly first: 'won' | 'conflict' | 'failed';
  readonly appended: { readonly id: string; readonly streamId: string; readonly position: string; readonly revision: string }[];
  /** ConcurrencyErrors met appending to user-exact. */
  readonly conflicts: number;
  readonly failures: string[];
}

const [file, worker, countArgument] = process.argv.slice(2);
if (file === undefined || worker === undefined || countArgument === undefined) throw new Error('usage: appendWorker <file> <worker> <count>');
const count = Number(countArgument);

const event = (n: number): NewEvent => ({
  id: randomUUID(),
  type: 'SomethingHappened',
  data: { worker, n },
  metadata: { schemaVersion: 1, $correlationId: worker, $causationId: worker, commandId: randomUUID(), occurredAt: new Date().toISOString() },
});

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * 2));

const run = async (store: EventStore): Promise<AppendWorkerReport> => {
  const report = { worker, first: 'failed', appended: [], conflicts: 0, failures: [] } as { -readonly [K in keyof AppendWorkerReport]: AppendWorkerReport[K] };
  const record = (streamId: string, stored: NewEvent, result: { position: bigint; nextRevision: bigint }): void => {
    report.appended.push({ id: stored.id, streamId, position: String(result.position), revision: String(result.nextRevision) });
  };
  const attempt = async (work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      if (isConcurrencyError(error)) report.conflicts++;
      else report.failures.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  };

  const first = event(0);
  try {
    record('user-first', first, await store.appendToStream('user-first', [first], { expectedRevision: 'no_stream' }));
    report.first = 'won';
  } catch (error) {
    report.first = isConcurrencyError(error) ? 'conflict' : 'failed';
    if (!isConcurrencyError(error)) report.failures.push(String(error));
  }

  for (let n = 0; n < count; n++)
    for (const streamId of ['user-any', `user-${worker}`])
      await attempt(async () => {
        const next = event(n);
        record(streamId, next, await store.appendToStream(streamId, [next], { expectedRevision: 'any' }));
      });

  for (let appended = 0; appended < count; ) {
    const [last] = await store.readStream('user-exact', { direction: 'backwards', maxCount: 1 });
    await pause();
    const conflictsBefore = report.conflicts;
    await attempt(async () => {
      const next = event(appended);
      record('user-exact', next, await store.appendToStream('user-exact', [next], { expectedRevision: last?.revision ?? 'no_stream' }));
    });
    if (report.conflicts === conflictsBefore) appended++;
    if (report.failures.length > 0) break;
  }
  return report;
};

console.log('ready');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();
const store = createSqliteEventStore({ path: file });
try {
  console.log(JSON.stringify(await run(store)));
} finally {
  await store.close();
}
