import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEventStoreDBClient, createEventStoreDBEventStore, createEventStoreDBSnapshotStore } from '#adapters/eventstoredb/index';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { createSqliteSnapshotStore } from '#adapters/sqlite/sqliteSnapshotStore';
import { createReservationStreamNaming } from '#application/emailReservations';
import { getUserAsOf } from '#application/getUserAsOf';
import { getUserHistory } from '#application/getUserHistory';
import { handleUserCommand, type CommandDeps } from '#application/handleUserCommand';
import { loadUserStreamForCommand, type UserSnapshotSettings } from '#application/userSnapshots';
import { loadUserStream } from '#application/userStream';
import { encodeUserEvent } from '#domain/userEventCodec';
import type { UserEvent } from '#domain/userEvents';
import { userStreamId } from '#domain/userValues';
import type { EventStore, NewEvent } from '#ports/eventStore';
import type { SnapshotStore } from '#ports/snapshotStore';
import { startEsdbEmulator } from '#test/support/esdb-emulator/index';
import { memoryUserKeys } from '#test/support/memoryUserKeys';
import { median as medianOf } from './support/measure.ts';
import { argValue } from './support/args.ts';

/**
 * npm run bench:long-stream [-- --events N] [--samples N] [--every N]
 *
 * Latency on one user whose stream holds N events (default 10,000; suspensions and
 * reactivations after a registration, personal fields sealed as the service writes them), on
 * the SQLite store and on the EventStoreDB emulator through the real gRPC client, each with and
 * without snapshots (one every `--every` events, default 100) in the same run: the two variants
 * alternate sample by sample on the same stream, so the machine's noise falls on both alike.
 * Measured: a command (load, fold, decide, append), the load alone, the temporal queries (at
 * the last revision; as of an instant mid-stream, which the newest snapshot is too late for),
 * an early revision, a history page found by `from`, and the bare stream read. Also, with
 * snapshots, one whole interval of commands (the tail growing from 0 to `every` events, one
 * snapshot written): its median, mean and slowest. Medians of the samples (three times as many
 * on the short stream, where the differences are small); results in bench/results/long-stream.json.
 */

const EVENTS = Number(argValue('--events') ?? 10_000);
const SAMPLES = Number(argValue('--samples') ?? 15);
const EVERY = Number(argValue('--every') ?? 100);

const round = (value: number): number => Math.round(value * 100) / 100;
/** The median of the samples, rounded to hundredths. */
const median = (values: readonly number[]): number => round(medianOf(values));

const time = async (work: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};

const timed = async (samples: number, work: () => Promise<unknown>): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) times.push(await time(work));
  return median(times);
};

/** Without and with snapshots, alternating (which goes first alternates too); medians and their ratio. */
const compared = async (samples: number, without: () => Promise<unknown>, withSnapshots: () => Promise<unknown>) => {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i % 2 === 0) {
      a.push(await time(without));
      b.push(await time(withSnapshots));
    } else {
      b.push(await time(withSnapshots));
      a.push(await time(without));
    }
  }
  const [withoutMs, withMs] = [median(a), median(b)];
  return { withoutSnapshotsMs: withoutMs, withSnapshotsMs: withMs, ratio: Math.round((withMs / withoutMs) * 10_000) / 10_000 };
};

const metadata = (occurredAt: string, schemaVersion: number) => ({ schemaVersion, $correlationId: 'bench', $causationId: 'bench', commandId: randomUUID(), occurredAt });

/** One user with `count` events, sealed with its key and appended in chunks; answers its id and the commit time of its middle event. */
const seedLongStream = async (eventStore: EventStore, keys: ReturnType<typeof memoryUserKeys>, count: number): Promise<{ userId: string; middle: Date }> => {
  const userId = randomUUID();
  const streamId = userStreamId(userId);
  const key = await keys.forWriting(userId);
  const at = new Date().toISOString();
  const domainEvents: UserEvent[] = [{ type: 'UserRegistered', data: { userId, email: `${userId.slice(0, 8)}@example.com`, displayName: 'Long', registeredAt: at } }];
  for (let i = 1; i < count; i++)
    domainEvents.push(i % 2 === 1 ? { type: 'UserSuspended', data: { userId, reason: 'bench', suspendedAt: at } } : { type: 'UserReactivated', data: { userId, reactivatedAt: at } });
  const events: NewEvent[] = domainEvents.map((event) => {
    const encoded = encodeUserEvent(event, key);
    return { id: randomUUID(), type: encoded.type, data: encoded.data, metadata: metadata(at, encoded.schemaVersion) };
  });
  for (let start = 0; start < events.length; start += 500) {
    await eventStore.appendToStream(streamId, events.slice(start, start + 500), { expectedRevision: start === 0 ? 'no_stream' : BigInt(start - 1) });
  }
  const [middle] = await eventStore.readStream(streamId, { fromRevision: BigInt(Math.floor(count / 2)), maxCount: 1 });
  return { userId, middle: middle?.recordedAt ?? new Date() };
};

const measure = async (eventStore: EventStore, snapshotStore: SnapshotStore, count: number, samples: number) => {
  const keys = memoryUserKeys();
  const { userId, middle } = await seedLongStream(eventStore, keys, count);
  const snapshots: UserSnapshotSettings = { store: snapshotStore, every: EVERY, onFailure: (error) => console.error('snapshot failed', error) };
  const without: CommandDeps = { eventStore, keys, reservationStreamOf: createReservationStreamNaming('bench-email-reservation-key-0123456789'), maxAttempts: 3 };
  const withSnapshots: CommandDeps = { ...without, snapshots };
  // Every command appends one event: a suspension or a reactivation, by the stream's parity.
  let revision = count - 1;
  const command = () => {
    revision += 1;
    return revision % 2 === 1
      ? ({ type: 'SuspendUser', data: { userId, reason: 'bench' }, metadata: { now: new Date() } } as const)
      : ({ type: 'ReactivateUser', data: { userId }, metadata: { now: new Date() } } as const);
  };
  const run = (deps: CommandDeps) => () => handleUserCommand(deps, command(), { commandId: randomUUID(), correlationId: 'bench' });

  // The first command with snapshots on a stream without one: a full load, then the snapshot written.
  const firstCommandWithSnapshotsMs = round(await time(run(withSnapshots)));
  const loadAndFold = await compared(samples, () => loadUserStream(without, userId), () => loadUserStreamForCommand(withSnapshots, userId));
  // Before the commands below grow it: the short stream has no snapshot yet, which is the case measured there.
  const atLastRevision = await compared(samples, () => getUserAsOf(without, userId, { atRevision: BigInt(revision) }), () => getUserAsOf(withSnapshots, userId, { atRevision: BigInt(revision) }));
  const asOfMiddle = await compared(samples, () => getUserAsOf(without, userId, { asOf: middle }), () => getUserAsOf(withSnapshots, userId, { asOf: middle }));
  const commandLatency = await compared(samples, run(without), run(withSnapshots));
  const cycle: number[] = [];
  for (let i = 0; i < EVERY; i++) cycle.push(await time(run(withSnapshots)));
  const readWholeStreamMs = await timed(samples, () => eventStore.readStream(userStreamId(userId)));
  const historyPageFromMiddleMs = await timed(samples, () => getUserHistory(without, userId, { limit: 100, from: middle }));
  const atRevision10Ms = await timed(samples, () => getUserAsOf(without, userId, { atRevision: 10n }));
  return {
    events: count,
    readWholeStreamMs,
    loadAndFold,
    command: commandLatency,
    firstCommandWithSnapshotsMs,
    commandsWithSnapshotsOverOneInterval: {
      commands: cycle.length,
      medianMs: median(cycle),
      meanMs: round(cycle.reduce((sum, ms) => sum + ms, 0) / Math.max(1, cycle.length)),
      maxMs: round(Math.max(...cycle)),
    },
    atLastRevision,
    asOfMiddle,
    atRevision10Ms,
    historyPageFromMiddleMs,
  };
};

const main = async (): Promise<void> => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chronicle-long-stream-'));
  const emulator = await startEsdbEmulator();
  const sqlite = createSqliteEventStore({ path: path.join(dir, 'events.sqlite') });
  const sqliteSnapshots = createSqliteSnapshotStore({ path: path.join(dir, 'snapshots.sqlite') });
  const client = createEventStoreDBClient(emulator.connectionString);
  const esdb = createEventStoreDBEventStore(client);
  const esdbSnapshots = createEventStoreDBSnapshotStore(client);
  try {
    const results = {
      date: new Date().toISOString(),
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
      cpus: os.cpus().length,
      samples: SAMPLES,
      snapshotEvery: EVERY,
      sqlite: { short: await measure(sqlite, sqliteSnapshots, 10, SAMPLES * 3), long: await measure(sqlite, sqliteSnapshots, EVENTS, SAMPLES) },
      eventStoreDBEmulator: { short: await measure(esdb, esdbSnapshots, 10, SAMPLES * 3), long: await measure(esdb, esdbSnapshots, EVENTS, SAMPLES) },
    };
    console.log(JSON.stringify(results, null, 2));
    if (EVENTS === 10_000 && EVERY === 100) writeFileSync(new URL('./results/long-stream.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await Promise.all([sqlite.close(), sqliteSnapshots.close(), esdb.close(), esdbSnapshots.close()]);
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};

await main();
