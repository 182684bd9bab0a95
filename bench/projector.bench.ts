import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { createClient } from 'redis';
import { readModelKeys } from '#adapters/redis/readModelKeys';
import { connectRedis } from '#adapters/redis/connectRedis';
import { orderKeyOf } from '#adapters/shared/userPaging';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { createSqliteEventSource } from '#adapters/sqlite/sqliteEventSource';
import { migrateEventsSchema } from '#adapters/sqlite/sqliteEventStore';
import { openSqliteDatabase } from '#adapters/sqlite/sqliteDatabase';
import { projectStoredEvent } from '#application/userProjection';
import type { DeliveredEvent, EventSource, EventSubscription } from '#ports/eventSource';
import type { UserStatus } from '#domain/userState';
import type { ProjectedEvent } from '#ports/readModels';
import { createProjector } from '#projector/createProjector';
import { startPrivateRedis } from '#test/support/redis';
import { createHash } from 'node:crypto';
import { aesGcmPersonalDataKey } from '#adapters/crypto/aesGcmPersonalDataKey';
import { createLocalKeyWrapper } from '#adapters/crypto/localKeyWrapper';
import { createSqliteDataKeyStore } from '#adapters/sqlite/sqliteDataKeyStore';
import { createUserKeys } from '#application/userKeys';
import { userBatchProjection } from '#application/userProjection';
import { encodeUserEvent } from '#domain/userEventCodec';
import type { UserEvent } from '#domain/userEvents';
import { decodeWireEvent, wireTraffic, type SealTraffic } from './benchTraffic.ts';
import { argValue, cpuProfileFlags } from './support/args.ts';
import { median, peakRssMb, perEvent, redisCpuSeconds } from './support/measure.ts';
import { connectRawResp, encodeResp } from './support/rawResp.ts';

/**
 * npm run bench:projector [-- --quick] [--events N] [--runs N]
 *
 * Events/s through decoding, upcasting, projection and the Redis write, with peak RSS, in two
 * setups: (1) events handed over in memory as a subscription delivers them (the projector's own
 * cost), (2) read by the SQLite source from a seeded events file (the embedded path). Each run
 * is a fresh child process (peak RSS is its own) writing a fresh read-model version, deleted
 * afterwards. In the same run: the same Redis writes as plain commands, pipelined per batch,
 * without the projector (the baseline), and the ratio between the two.
 *
 * Redis is a private redis-server started for the run (so that its CPU time, read from INFO,
 * is the benchmark's alone), or REDIS_URL when set. Each run reports CPU per event on both
 * sides: Node's (the worker process) and Redis's.
 */

let REDIS_URL = process.env['REDIS_URL'] ?? '';
const BATCH_SIZE = 1000;
const SEED = 20_240_101;
/** `--plaintext`: traffic as written before encryption (no keys fetched, nothing opened). */
const PLAINTEXT = process.argv.includes('--plaintext');

// Each user's data key, derived from the id so that the seeded key store, the traffic generator
// and the baseline agree without sharing state; the wrapping key is fixed for the same reason.
const benchDataKey = (userId: string): Uint8Array => new Uint8Array(createHash('sha256').update(`bench/${SEED}/${userId}`).digest());
const BENCH_WRAPPER = createLocalKeyWrapper(new Uint8Array(32).fill(42));

/** Seals as the command side does: personal fields of each event in one AES-256-GCM ciphertext. */
const sealTraffic: SealTraffic = (userId, type, data) =>
  JSON.stringify(encodeUserEvent({ type, data } as unknown as UserEvent, aesGcmPersonalDataKey(benchDataKey(userId))).data);
const trafficSeal = PLAINTEXT ? undefined : sealTraffic;
const benchKeyOf = (userId: string) => aesGcmPersonalDataKey(benchDataKey(userId));

interface RunResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly peakRssMb: number;
  readonly nodeCpuUsPerEvent: number;
  readonly redisCpuUsPerEvent: number;
}

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
      for (const wire of wireTraffic(count, SEED, trafficSeal)) yield { event: decodeWireEvent(wire), retryCount: 0 };
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
  // The users' keys from the seeded SQLite key store, through the production cache (once per user per batch).
  const keyStore = PLAINTEXT ? null : createSqliteDataKeyStore({ path: keysFileOf(eventsFile), wrapper: BENCH_WRAPPER });
  const client = await connectRedis(REDIS_URL);
  const readModels = createRedisReadModels({ client, version, ownsClient: true });
  const sqliteSource = mode === 'sqlite' ? createSqliteEventSource({ path: eventsFile, pollIntervalMs: 50, maxRetryCount: 10 }) : null;
  const projector = createProjector({
    source: sqliteSource ?? inMemorySource(events),
    readModels,
    ...(keyStore === null ? {} : { prepareBatch: userBatchProjection(createUserKeys({ store: keyStore, open: aesGcmPersonalDataKey, generate: () => new Uint8Array(32) })) }),
    settings: { batchSize: BATCH_SIZE, batchMaxWaitMs: 50, maxInFlight: 10_000, healthPort: null, retry: { baseDelayMs: 100, maxDelayMs: 5000, maxElapsedMs: 30_000 }, maxRetryCount: 10 },
  });
  const head = BigInt(events);
  const probe = await connectRedis(REDIS_URL);
  const redisCpuBefore = await redisCpuSeconds((args) => probe.sendCommand(args));
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  await projector.start();
  while (projector.checkpoint() !== head) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const redisCpu = (await redisCpuSeconds((args) => probe.sendCommand(args))) - redisCpuBefore;
  await probe.close();
  await projector.stop();
  await sqliteSource?.close();
  await readModels.close();
  await keyStore?.close();
  return {
    events,
    seconds,
    eventsPerSecond: Math.round(events / seconds),
    peakRssMb: peakRssMb(),
    nodeCpuUsPerEvent: perEvent((cpu.user + cpu.system) / 1e6, events),
    redisCpuUsPerEvent: perEvent(redisCpu, events),
  };
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
    const child = spawn(process.execPath, [...cpuProfileFlags(), bundle, '--worker', mode, String(events), String(version), eventsFile, ...(PLAINTEXT ? ['--plaintext'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, REDIS_URL },
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
const keysFileOf = (eventsFile: string): string => path.join(path.dirname(eventsFile), 'keys.sqlite');

/** Every registered user's key, wrapped, in the SQLite key store the workers read. */
const seedKeysFile = async (eventsFile: string, userIds: readonly string[]): Promise<void> => {
  const store = createSqliteDataKeyStore({ path: keysFileOf(eventsFile), wrapper: BENCH_WRAPPER });
  for (const userId of userIds) await store.getOrCreate(userId, () => benchDataKey(userId));
  await store.close();
};

const seedEventsFile = (file: string, events: number): string[] => {
  const userIds: string[] = [];
  const db = openSqliteDatabase(file);
  migrateEventsSchema(db);
  const insert = db.prepare('INSERT INTO events (position, id, stream_id, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insertMany = db.transaction((rows: ReturnType<typeof wireTraffic>, max: number) => {
    for (let n = 0; n < max; n++) {
      const next = rows.next();
      if (next.done === true) return;
      const e = next.value;
      if (e.type === 'UserRegistered') userIds.push(e.streamId.slice('user-'.length));
      insert.run(e.position, e.id, e.streamId, e.revision, e.type, e.data, e.metadata, e.recordedAt);
    }
  });
  const rows = wireTraffic(events, SEED, trafficSeal);
  for (let written = 0; written < events; written += 50_000) insertMany(rows, 50_000);
  db.close();
  return userIds;
};

interface BaselineResult {
  readonly eventsPerSecond: number;
  readonly commandsPerSecond: number;
  /** CPU per event in the sending process during the timed round trips. */
  readonly clientCpuUsPerEvent: number;
  readonly redisCpuUsPerEvent: number;
}

/**
 * The writes the apply-batch script makes for each event, as plain commands, one array per
 * batch (plus the checkpoint): user hash, status set and registration order, email index,
 * applied revision. Made from the same traffic, decoded and projected here, outside any timing.
 */
function* baselineBatches(events: number, version: number): Generator<string[][]> {
  const keys = readModelKeys(version);
  const users = new Map<string, { status: UserStatus; email: string; order: string }>();
  const wire = wireTraffic(events, SEED, trafficSeal);
  const commandsFor = (projected: ProjectedEvent, out: string[][]): void => {
    const applied = ['HSET', keys.applied, projected.streamId, projected.revision.toString()];
    for (const change of projected.changes) {
      if (change.type === 'userCreated') {
        const { user } = change;
        const order = orderKeyOf(user.registeredAt, user.id);
        users.set(user.id, { status: user.status, email: user.email, order });
        out.push(
          ['HSET', keys.user(user.id), 'id', user.id, 'email', user.email, 'displayName', user.displayName, 'status', user.status, 'emailVerified', '0', 'registeredAt', user.registeredAt, 'order', order, 'revision', '0', 'position', projected.position.toString()],
          ['SADD', keys.statusSet(user.status), user.id],
          ['ZADD', keys.statusRegistrationOrder(user.status), '0', order],
          ['HSET', keys.emailIndex, user.email, user.id],
        );
      } else if (change.type === 'userPatched') {
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
      commandsFor(projectStoredEvent(decodeWireEvent(next.value), benchKeyOf), batch);
    }
    batch.push(['SET', keys.checkpoint, String(done + n)]);
    done += n;
    yield batch;
  }
}

/** Times only the round trips of each batch; Redis CPU over the whole run (nothing else uses it). */
const timeBaseline = async (
  events: number,
  send: (batch: string[][]) => Promise<void>,
  prepare: (batch: string[][]) => string[][] = (batch) => batch,
): Promise<BaselineResult> => {
  const version = uniqueVersion();
  const probe = await connectRedis(REDIS_URL);
  const redisCpuBefore = await redisCpuSeconds((args) => probe.sendCommand(args));
  let timedMs = 0;
  let clientCpuUs = 0;
  let commands = 0;
  for (const batch of baselineBatches(events, version)) {
    const prepared = prepare(batch);
    commands += batch.length;
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    await send(prepared);
    timedMs += performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    clientCpuUs += cpu.user + cpu.system;
    await yieldToEventLoop();
  }
  const redisCpu = (await redisCpuSeconds((args) => probe.sendCommand(args))) - redisCpuBefore;
  await probe.close();
  await deleteVersion(version);
  return {
    eventsPerSecond: Math.round(events / (timedMs / 1000)),
    commandsPerSecond: Math.round(commands / (timedMs / 1000)),
    clientCpuUsPerEvent: perEvent(clientCpuUs / 1e6, events),
    redisCpuUsPerEvent: perEvent(redisCpu, events),
  };
};

/** Through node-redis, as an application would send them: one pipeline per batch. */
const pipelinedBaseline = async (events: number): Promise<BaselineResult> => {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    return await timeBaseline(events, async (batch) => {
      const pipeline = client.multi();
      for (const command of batch) pipeline.addCommand(command);
      await pipeline.execAsPipeline();
    });
  } finally {
    await client.quit();
  }
};

/**
 * Without a client library: each batch encoded as RESP beforehand (untimed), written to a
 * socket, done when every reply is in (all of these commands answer one line). What Redis
 * itself can do with these writes, as redis-benchmark would measure it.
 */
const rawRespBaseline = async (events: number): Promise<BaselineResult> => {
  const connection = await connectRawResp(REDIS_URL);
  const encoded = new WeakMap<string[][], Buffer>();
  try {
    return await timeBaseline(
      events,
      (batch) => connection.send(encoded.get(batch)!, batch.length),
      (batch) => {
        encoded.set(batch, encodeResp(batch));
        return batch;
      },
    );
  } finally {
    connection.close();
  }
};

const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

const describeRun = (r: RunResult): string =>
  `${r.eventsPerSecond} events/s, peak RSS ${r.peakRssMb} MB, CPU per event: Node ${r.nodeCpuUsPerEvent} µs, Redis ${r.redisCpuUsPerEvent} µs`;

const describeBaseline = (r: BaselineResult): string =>
  `${r.eventsPerSecond} events/s (${r.commandsPerSecond} commands/s), CPU per event: client ${r.clientCpuUsPerEvent} µs, Redis ${r.redisCpuUsPerEvent} µs`;

const main = async (): Promise<void> => {
  const quick = process.argv.includes('--quick');
  const events = Number(argValue('--events') ?? (quick ? 100_000 : 1_000_000));
  const runs = Number(argValue('--runs') ?? (quick ? 3 : 1));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chronicle-bench-'));
  const eventsFile = path.join(dir, 'events.sqlite');
  // The bundle sits in the repository so that its package imports resolve from node_modules.
  const bundleDir = (mkdirSync(path.join(import.meta.dirname, '..', '.tmp'), { recursive: true }), mkdtempSync(path.join(import.meta.dirname, '..', '.tmp', 'bench-')));
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  const privateRedis = REDIS_URL === '' ? await startPrivateRedis() : null;
  if (privateRedis !== null) REDIS_URL = privateRedis.url;
  const loadAtStart = os.loadavg()[0] ?? 0;
  try {
    const bundle = await bundleSelf(bundleDir);
    log(`seeding ${events} events into ${eventsFile}; Redis at ${REDIS_URL}${privateRedis === null ? '' : ' (private)'}`);
    const userIds = seedEventsFile(eventsFile, events);
    if (!PLAINTEXT) await seedKeysFile(eventsFile, userIds);
    const memory: RunResult[] = [];
    const sqlite: RunResult[] = [];
    const pipelined: BaselineResult[] = [];
    const raw: BaselineResult[] = [];
    for (let run = 1; run <= runs; run++) {
      memory.push(await spawnWorker(bundle, 'memory', events, eventsFile));
      log(`run ${run}/${runs} in memory: ${describeRun(memory.at(-1)!)}`);
      sqlite.push(await spawnWorker(bundle, 'sqlite', events, eventsFile));
      log(`run ${run}/${runs} from SQLite: ${describeRun(sqlite.at(-1)!)}`);
      pipelined.push(await pipelinedBaseline(events));
      log(`run ${run}/${runs} baseline, plain commands pipelined through node-redis: ${describeBaseline(pipelined.at(-1)!)}`);
      raw.push(await rawRespBaseline(events));
      log(`run ${run}/${runs} baseline, the same commands as raw RESP on a socket: ${describeBaseline(raw.at(-1)!)}`);
    }
    const medianOf = <T>(results: readonly T[], pick: (r: T) => number): number => median(results.map(pick));
    const summary = (results: readonly RunResult[]) => ({
      eventsPerSecond: medianOf(results, (r) => r.eventsPerSecond),
      peakRssMb: Math.max(...results.map((r) => r.peakRssMb)),
      nodeCpuUsPerEvent: medianOf(results, (r) => r.nodeCpuUsPerEvent),
      redisCpuUsPerEvent: medianOf(results, (r) => r.redisCpuUsPerEvent),
      runs: results,
    });
    const baselineSummary = (results: readonly BaselineResult[]) => ({
      eventsPerSecond: medianOf(results, (r) => r.eventsPerSecond),
      commandsPerSecond: medianOf(results, (r) => r.commandsPerSecond),
      clientCpuUsPerEvent: medianOf(results, (r) => r.clientCpuUsPerEvent),
      redisCpuUsPerEvent: medianOf(results, (r) => r.redisCpuUsPerEvent),
    });
    const sqliteSummary = summary(sqlite);
    const memorySummary = summary(memory);
    const rawSummary = baselineSummary(raw);
    const pipelinedSummary = baselineSummary(pipelined);
    const cpus = os.cpus();
    const result = {
      events,
      runs,
      batchSize: BATCH_SIZE,
      traffic: PLAINTEXT ? 'plaintext (as before encryption)' : 'personal fields sealed (AES-256-GCM per user), keys from the SQLite key store through the cache',
      // The full path: SQLite source → decode, upcast, project → one script call per batch.
      eventsPerSecond: sqliteSummary.eventsPerSecond,
      peakRssMb: Math.max(sqliteSummary.peakRssMb, memorySummary.peakRssMb),
      // Against what Redis itself does with the same writes sent as plain commands (no client library in the way).
      baselineOpsPerSecond: rawSummary.eventsPerSecond,
      ratio: ratio(sqliteSummary.eventsPerSecond, rawSummary.eventsPerSecond),
      sqlite: { ...sqliteSummary, ratio: ratio(sqliteSummary.eventsPerSecond, rawSummary.eventsPerSecond) },
      inMemory: { ...memorySummary, ratio: ratio(memorySummary.eventsPerSecond, rawSummary.eventsPerSecond) },
      baselines: {
        rawResp: { ...rawSummary, note: 'the script\'s writes per event as plain commands, RESP encoded beforehand and written to a socket per batch; only the round trips timed' },
        nodeRedisPipeline: {
          ...pipelinedSummary,
          fullPathRatio: ratio(sqliteSummary.eventsPerSecond, pipelinedSummary.eventsPerSecond),
          note: 'the same commands pipelined per batch through node-redis; bound by the client\'s CPU per command, not by Redis',
        },
      },
      machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, loadAverage1m: { atStart: loadAtStart, atEnd: os.loadavg()[0] } },
      redis: privateRedis === null ? 'REDIS_URL' : 'private redis-server, loopback',
      date: new Date().toISOString(),
      node: process.version,
    };
    mkdirSync(path.join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(path.join(import.meta.dirname, 'results', 'projector.json'), `${JSON.stringify(result, null, 2)}\n`);
    log('');
    log(`${events} events, median of ${runs}, load average ${loadAtStart.toFixed(2)} → ${os.loadavg()[0]!.toFixed(2)} on ${cpus.length} cores:`);
    log(`full path (SQLite source → projector → Redis): ${describeRun({ ...sqlite[0]!, ...sqliteSummary })}`);
    log(`in memory (projector + Redis):                 ${describeRun({ ...memory[0]!, ...memorySummary })}`);
    log(`baseline, raw RESP:            ${describeBaseline(rawSummary)}; ratio full path / baseline ${result.ratio}, in memory / baseline ${result.inMemory.ratio}`);
    log(`baseline, node-redis pipeline: ${describeBaseline(pipelinedSummary)}; ratio full path / baseline ${result.baselines.nodeRedisPipeline.fullPathRatio}`);
    log('written to bench/results/projector.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
    await privateRedis?.stop();
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
