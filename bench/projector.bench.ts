import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { createClient } from 'redis';
import { readModelKeys } from '#adapters/redis/readModelKeys';
import { connectRedis } from '#adapters/redis/connectRedis';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { createSqliteEventSource } from '#adapters/sqlite/sqliteEventSource';
import { migrateEventsSchema } from '#adapters/sqlite/sqliteEventStore';
import { openSqliteDatabase } from '#adapters/sqlite/sqliteDatabase';
import { projectStoredEvent } from '#application/userProjection';
import type { DeliveredEvent, EventSource, EventSubscription } from '#ports/eventSource';
import type { UserStatus } from '#domain/userState';
import type { ProjectedEvent } from '#ports/readModels';
import { createProjector } from '#projector/createProjector';
import { decodeWireEvent, wireTraffic } from './benchTraffic.ts';

/**
 * npm run bench:projector [-- --quick] [--events N] [--runs N]
 *
 * Events/s through decoding, upcasting, projection and the Redis write, with peak RSS, in two
 * setups: (1) events handed over in memory as a subscription delivers them (the projector's own
 * cost), (2) read by the SQLite source from a seeded events file (the embedded path). Each run
 * is a fresh child process (peak RSS is its own) writing a fresh read-model version, deleted
 * afterwards. In the same run: the same Redis writes as plain commands, pipelined per batch,
 * without the projector (the baseline), and the ratio between the two.
 */

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const BATCH_SIZE = 1000;
const SEED = 20_240_101;

interface RunResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly peakRssMb: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const peakRssMb = (): number => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

const deleteVersion = async (version: number): Promise<void> => {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${readModelKeys(version).prefix}*`, COUNT: 5000 })) if (keys.length > 0) await client.unlink(keys);
  await client.quit();
};

const uniqueVersion = (): number => 900_000 + Math.floor(Math.random() * 99_000);

/** The subscription's shape over the generated wire events: decoded as delivered, acks counted. */
const inMemorySource = (count: number): EventSource => ({
  async subscribe(): Promise<EventSubscription> {
    async function* deliver(): AsyncGenerator<DeliveredEvent> {
      for (const wire of wireTraffic(count, SEED)) yield { event: decodeWireEvent(wire), retryCount: 0 };
    }
    const events = deliver();
    return {
      [Symbol.asyncIterator]: () => events,
      ack: async () => undefined,
      nack: async () => undefined,
      close: async () => {
        await events.return(undefined);
      },
    };
  },
});

// The worker: one measured run in its own process.
const runWorker = async (mode: 'memory' | 'sqlite', events: number, version: number, eventsFile: string): Promise<RunResult> => {
  const client = await connectRedis(REDIS_URL);
  const readModels = createRedisReadModels({ client, version, ownsClient: true });
  const sqliteSource = mode === 'sqlite' ? createSqliteEventSource({ path: eventsFile, pollIntervalMs: 50, maxRetryCount: 10 }) : null;
  const projector = createProjector({
    source: sqliteSource ?? inMemorySource(events),
    readModels,
    settings: { batchSize: BATCH_SIZE, batchMaxWaitMs: 50, maxInFlight: 10_000, healthPort: null, retry: { baseDelayMs: 100, maxDelayMs: 5000, maxElapsedMs: 30_000 }, maxRetryCount: 10 },
  });
  const head = BigInt(events);
  const startedAt = performance.now();
  await projector.start();
  while (projector.checkpoint() !== head) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - startedAt) / 1000;
  await projector.stop();
  await sqliteSource?.close();
  await readModels.close();
  return { events, seconds, eventsPerSecond: Math.round(events / seconds), peakRssMb: peakRssMb() };
};

/** This file as one plain-JS bundle, so that workers run on node alone: no TypeScript loader in their time or memory. */
const bundleSelf = async (dir: string): Promise<string> => {
  const { build } = await import('esbuild');
  const outfile = path.join(dir, 'projector.bench.mjs');
  await build({ entryPoints: [import.meta.filename], bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', outfile, logLevel: 'error' });
  return outfile;
};

const spawnWorker = (bundle: string, mode: 'memory' | 'sqlite', events: number, eventsFile: string): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const version = uniqueVersion();
    const profile = process.argv.includes('--cpu-prof') ? ['--cpu-prof', '--cpu-prof-dir=bench/results/profiles'] : [];
    const child = spawn(process.execPath, [...profile, bundle, '--worker', mode, String(events), String(version), eventsFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('exit', (code) => {
      void deleteVersion(version).then(() => {
        if (code !== 0) return reject(new Error(`${mode} worker exited with ${code}`));
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as RunResult);
      }, reject);
    });
  });

/** Seeds the events file straight through the adapter's schema, in big transactions (appending a million events one command at a time would take minutes). */
const seedEventsFile = (file: string, events: number): void => {
  const db = openSqliteDatabase(file);
  migrateEventsSchema(db);
  const insert = db.prepare('INSERT INTO events (position, id, stream_id, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insertMany = db.transaction((rows: ReturnType<typeof wireTraffic>, max: number) => {
    for (let n = 0; n < max; n++) {
      const next = rows.next();
      if (next.done === true) return;
      const e = next.value;
      insert.run(e.position, e.id, e.streamId, e.revision, e.type, e.data, e.metadata, e.recordedAt);
    }
  });
  const rows = wireTraffic(events, SEED);
  for (let written = 0; written < events; written += 50_000) insertMany(rows, 50_000);
  db.close();
};

/** The same writes the apply-batch script makes, as plain commands pipelined per batch; only the round trips are timed. */
const redisBaseline = async (events: number): Promise<{ opsPerSecond: number; commandsPerSecond: number }> => {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const keys = readModelKeys(uniqueVersion());
  const users = new Map<string, { status: UserStatus; email: string; order: string }>();
  const wire = wireTraffic(events, SEED);
  let timedMs = 0;
  let commands = 0;
  const commandsFor = (projected: ProjectedEvent, out: string[][]): void => {
    const applied = ['HSET', keys.applied, projected.streamId, projected.revision.toString()];
    for (const change of projected.changes) {
      if (change.type === 'userCreated') {
        const { user } = change;
        const order = `${Date.parse(user.registeredAt)}:${user.id}`;
        users.set(user.id, { status: user.status, email: user.email, order });
        out.push(
          ['HSET', keys.user(user.id), 'id', user.id, 'email', user.email, 'displayName', user.displayName, 'status', user.status, 'emailVerified', '0', 'registeredAt', user.registeredAt, 'order', order, 'revision', '0', 'position', projected.position.toString()],
          ['SADD', keys.statusSet(user.status), user.id],
          ['ZADD', keys.statusRegistrationOrder(user.status), '0', order],
          ['HSET', keys.emailIndex, user.email, user.id],
        );
      } else {
        const known = users.get(change.userId);
        const fields = Object.entries(change.fields).flatMap(([name, value]) => [name, typeof value === 'boolean' ? (value ? '1' : '0') : String(value)]);
        out.push(['HSET', keys.user(change.userId), 'revision', projected.revision.toString(), 'position', projected.position.toString(), ...fields]);
        if (known && change.fields.status !== undefined && change.fields.status !== known.status) {
          out.push(['SMOVE', keys.statusSet(known.status), keys.statusSet(change.fields.status), change.userId]);
          out.push(['ZREM', keys.statusRegistrationOrder(known.status), known.order], ['ZADD', keys.statusRegistrationOrder(change.fields.status), '0', known.order]);
          known.status = change.fields.status;
        }
        if (known && change.fields.email !== undefined) {
          out.push(['HDEL', keys.emailIndex, known.email], ['HSET', keys.emailIndex, change.fields.email, change.userId]);
          known.email = change.fields.email;
        }
      }
    }
    out.push(applied);
  };
  for (let done = 0; done < events; ) {
    const batch: string[][] = [];
    let n = 0;
    for (; n < BATCH_SIZE; n++) {
      const next = wire.next();
      if (next.done === true) break;
      commandsFor(projectStoredEvent(decodeWireEvent(next.value)), batch);
    }
    batch.push(['SET', keys.checkpoint, String(done + n)]);
    done += n;
    commands += batch.length;
    const startedAt = performance.now();
    const pipeline = client.multi();
    for (const command of batch) pipeline.addCommand(command);
    await pipeline.execAsPipeline();
    timedMs += performance.now() - startedAt;
    await yieldToEventLoop();
  }
  for await (const found of client.scanIterator({ MATCH: `${keys.prefix}*`, COUNT: 5000 })) if (found.length > 0) await client.unlink(found);
  await client.quit();
  return { opsPerSecond: Math.round(events / (timedMs / 1000)), commandsPerSecond: Math.round(commands / (timedMs / 1000)) };
};

const argValue = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};

const main = async (): Promise<void> => {
  const quick = process.argv.includes('--quick');
  const events = Number(argValue('--events') ?? (quick ? 100_000 : 1_000_000));
  const runs = Number(argValue('--runs') ?? (quick ? 3 : 1));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chronicle-bench-'));
  const eventsFile = path.join(dir, 'events.sqlite');
  // The bundle sits in the repository so that its package imports resolve from node_modules.
  const bundleDir = (mkdirSync(path.join(import.meta.dirname, '..', '.tmp'), { recursive: true }), mkdtempSync(path.join(import.meta.dirname, '..', '.tmp', 'bench-')));
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  try {
    const bundle = await bundleSelf(bundleDir);
    log(`seeding ${events} events into ${eventsFile}`);
    seedEventsFile(eventsFile, events);
    const memory: RunResult[] = [];
    const sqlite: RunResult[] = [];
    const baseline: number[] = [];
    const baselineCommands: number[] = [];
    for (let run = 1; run <= runs; run++) {
      memory.push(await spawnWorker(bundle, 'memory', events, eventsFile));
      log(`run ${run}/${runs} in memory: ${memory.at(-1)!.eventsPerSecond} events/s, peak RSS ${memory.at(-1)!.peakRssMb} MB`);
      sqlite.push(await spawnWorker(bundle, 'sqlite', events, eventsFile));
      log(`run ${run}/${runs} from SQLite: ${sqlite.at(-1)!.eventsPerSecond} events/s, peak RSS ${sqlite.at(-1)!.peakRssMb} MB`);
      const raw = await redisBaseline(events);
      baseline.push(raw.opsPerSecond);
      baselineCommands.push(raw.commandsPerSecond);
      log(`run ${run}/${runs} raw Redis baseline: ${raw.opsPerSecond} events/s (${raw.commandsPerSecond} commands/s)`);
    }
    const eventsPerSecond = median(sqlite.map((r) => r.eventsPerSecond));
    const baselineOpsPerSecond = median(baseline);
    const cpus = os.cpus();
    const result = {
      events,
      runs,
      batchSize: BATCH_SIZE,
      eventsPerSecond,
      peakRssMb: Math.max(...sqlite.map((r) => r.peakRssMb)),
      baselineOpsPerSecond,
      baselineCommandsPerSecond: median(baselineCommands),
      ratio: Math.round((eventsPerSecond / baselineOpsPerSecond) * 100) / 100,
      inMemory: {
        eventsPerSecond: median(memory.map((r) => r.eventsPerSecond)),
        peakRssMb: Math.max(...memory.map((r) => r.peakRssMb)),
        ratio: Math.round((median(memory.map((r) => r.eventsPerSecond)) / baselineOpsPerSecond) * 100) / 100,
        runs: memory,
      },
      sqlite: { eventsPerSecond, peakRssMb: Math.max(...sqlite.map((r) => r.peakRssMb)), runs: sqlite },
      machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, loadAverage1m: os.loadavg()[0] },
      date: new Date().toISOString(),
      node: process.version,
    };
    mkdirSync(path.join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(path.join(import.meta.dirname, 'results', 'projector.json'), `${JSON.stringify(result, null, 2)}\n`);
    log('');
    log(`${events} events, median of ${runs}: full path (SQLite source → projector → Redis) ${eventsPerSecond} events/s, peak RSS ${result.peakRssMb} MB`);
    log(`in memory (projector + Redis): ${result.inMemory.eventsPerSecond} events/s, peak RSS ${result.inMemory.peakRssMb} MB`);
    log(`raw Redis baseline, same writes pipelined: ${baselineOpsPerSecond} events/s; ratio full path / baseline ${result.ratio}, in memory / baseline ${result.inMemory.ratio}`);
    log('written to bench/results/projector.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  }
};

const workerAt = process.argv.indexOf('--worker');
if (workerAt >= 0) {
  const [mode, events, version, eventsFile] = process.argv.slice(workerAt + 1);
  const result = await runWorker(mode as 'memory' | 'sqlite', Number(events), Number(version), eventsFile!);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  await main();
}
