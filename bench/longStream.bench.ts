import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEventStoreDBClient, createEventStoreDBEventStore } from '#adapters/eventstoredb/index';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { createReservationStreamNaming } from '#application/emailReservations';
import { getUserAsOf } from '#application/getUserAsOf';
import { getUserHistory } from '#application/getUserHistory';
import { handleUserCommand } from '#application/handleUserCommand';
import { loadUserStream } from '#application/userStream';
import { userStreamId } from '#domain/userValues';
import type { EventStore, NewEvent } from '#ports/eventStore';
import { startEsdbEmulator } from '#test/support/esdb-emulator/index';
import { memoryUserKeys } from '#test/support/memoryUserKeys';

/**
 * npm run bench:long-stream [-- --events N] [--samples N]
 *
 * Latency on one user whose stream holds N events (default 10,000; suspensions and
 * reactivations after a registration), on the SQLite store and on the EventStoreDB emulator
 * through the real gRPC client: a command (load, fold, decide, append), the temporal queries
 * (at the last revision: a full fold; as of an instant mid-stream), a history page found by
 * `from`, and the bare stream read, so that loading can be told apart from folding and deciding.
 * Medians of the samples; results in bench/results/long-stream.json.
 */

const argValue = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const EVENTS = argValue('--events', 10_000);
const SAMPLES = argValue('--samples', 15);

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? Number.NaN) * 100) / 100;
};

const timed = async (samples: number, work: (i: number) => Promise<unknown>): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await work(i);
    times.push(performance.now() - started);
  }
  return median(times);
};

const metadata = (occurredAt: string) => ({ schemaVersion: 1, $correlationId: 'bench', $causationId: 'bench', commandId: randomUUID(), occurredAt });

/** One user with `count` events, appended in chunks; answers its id and the commit time of its middle event. */
const seedLongStream = async (eventStore: EventStore, count: number): Promise<{ userId: string; middle: Date }> => {
  const userId = randomUUID();
  const streamId = userStreamId(userId);
  const at = new Date().toISOString();
  const events: NewEvent[] = [
    { id: randomUUID(), type: 'UserRegistered', data: { userId, email: `${userId.slice(0, 8)}@example.com`, displayName: 'Long', registeredAt: at }, metadata: metadata(at) },
  ];
  for (let i = 1; i < count; i++)
    events.push(
      i % 2 === 1
        ? { id: randomUUID(), type: 'UserSuspended', data: { userId, reason: 'bench', suspendedAt: at }, metadata: metadata(at) }
        : { id: randomUUID(), type: 'UserReactivated', data: { userId, reactivatedAt: at }, metadata: metadata(at) },
    );
  for (let start = 0; start < events.length; start += 500) {
    await eventStore.appendToStream(streamId, events.slice(start, start + 500), { expectedRevision: start === 0 ? 'no_stream' : BigInt(start - 1) });
  }
  const [middle] = await eventStore.readStream(streamId, { fromRevision: BigInt(Math.floor(count / 2)), maxCount: 1 });
  return { userId, middle: middle?.recordedAt ?? new Date() };
};

const measure = async (eventStore: EventStore, count: number) => {
  const { userId, middle } = await seedLongStream(eventStore, count);
  const streamDeps = { eventStore, keys: memoryUserKeys() };
  const deps = { ...streamDeps, reservationStreamOf: createReservationStreamNaming('bench-email-reservation-key-0123456789'), maxAttempts: 3 };
  // Alternate so every command decides and appends one event (the stream ends suspended or active by parity).
  const suspendedAtEnd = (count - 1) % 2 === 1;
  const command = (i: number) =>
    (i % 2 === 0) === suspendedAtEnd
      ? ({ type: 'ReactivateUser', data: { userId }, metadata: { now: new Date() } } as const)
      : ({ type: 'SuspendUser', data: { userId, reason: 'bench' }, metadata: { now: new Date() } } as const);
  return {
    events: count,
    readWholeStreamMs: await timed(SAMPLES, () => eventStore.readStream(userStreamId(userId))),
    loadAndFoldMs: await timed(SAMPLES, () => loadUserStream(streamDeps, userId)),
    commandMs: await timed(SAMPLES, (i) => handleUserCommand(deps, command(i), { commandId: randomUUID(), correlationId: 'bench' })),
    atLastRevisionMs: await timed(SAMPLES, () => getUserAsOf(streamDeps, userId, { atRevision: BigInt(count - 1) })),
    asOfMiddleMs: await timed(SAMPLES, () => getUserAsOf(streamDeps, userId, { asOf: middle })),
    atRevision10Ms: await timed(SAMPLES, () => getUserAsOf(streamDeps, userId, { atRevision: 10n })),
    historyPageFromMiddleMs: await timed(SAMPLES, () => getUserHistory(streamDeps, userId, { limit: 100, from: middle })),
  };
};

const main = async (): Promise<void> => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chronicle-long-stream-'));
  const emulator = await startEsdbEmulator();
  const sqlite = createSqliteEventStore({ path: path.join(dir, 'events.sqlite') });
  const esdb = createEventStoreDBEventStore(createEventStoreDBClient(emulator.connectionString));
  try {
    const results = {
      date: new Date().toISOString(),
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
      cpus: os.cpus().length,
      samples: SAMPLES,
      sqlite: { short: await measure(sqlite, 10), long: await measure(sqlite, EVENTS) },
      eventStoreDBEmulator: { short: await measure(esdb, 10), long: await measure(esdb, EVENTS) },
    };
    console.log(JSON.stringify(results, null, 2));
    if (EVENTS === 10_000) writeFileSync(new URL('./results/long-stream.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await Promise.all([sqlite.close(), esdb.close()]);
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};

await main();
