import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectRedis } from '#adapters/redis/connectRedis';
import { readModelKeys } from '#adapters/redis/readModelKeys';
import { createRedisReadModelRegistry } from '#adapters/redis/redisReadModelRegistry';
import { orderKeyOf } from '#adapters/shared/userPaging';
import { openSqliteDatabase } from '#adapters/sqlite/sqliteDatabase';
import { createSqliteEventStore, migrateEventsSchema } from '#adapters/sqlite/sqliteEventStore';
import { REBUILD_SEGMENT_SIZE, rebuildReadModelVersion } from '#application/readModelVersions';
import { projectStoredEvent } from '#application/userProjection';
import type { UserView } from '#ports/readModels';
import { startPrivateRedis } from '#test/support/redis';
import { decodeWireEvent, wireTraffic } from './benchTraffic.ts';
import { argValue, cpuProfileFlags } from './support/args.ts';
import { median, peakRssMb, perEvent, redisCpuSeconds } from './support/measure.ts';
import { connectRawResp, encodeResp } from './support/rawResp.ts';

/**
 * npm run bench:rebuild [-- --quick] [--events N] [--runs N] [--page N] [--segment N]
 *
 * `read-models rebuild` on its own: 1,000,000 events (--quick: 100,000) of realistic histories
 * (about four events per user: registrations, email changes, verifications, suspensions,
 * reactivations, interleaved across 50,000 recently active users) read from the SQLite store
 * with large catch-up reads, folded per stream, and written into a fresh version on a private
 * redis-server on loopback. Each run is a fresh child process (its peak RSS is its own) building
 * a fresh version. In the same run, the baseline: the same final writes (each user's hash, its
 * status set and registration-order entries, its email-index entry, its applied revision, the
 * checkpoint) as raw RESP pipelined on a socket, encoded beforehand, only the round trips timed.
 * Median of the runs; results in bench/results/rebuild.json.
 */

const SEED = 20_241_130;
const SHAPE = { registrationShare: 0.25 } as const;
let REDIS_URL = process.env['REDIS_URL'] ?? '';

interface RunResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly peakRssMb: number;
  readonly nodeCpuUsPerEvent: number;
  readonly redisCpuUsPerEvent: number;
  readonly users: number;
}

const deleteKeys = async (pattern: string): Promise<void> => {
  const client = await connectRedis(REDIS_URL);
  for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 5000 })) if (keys.length > 0) await client.unlink(keys);
  await client.close();
};

// The worker: one measured rebuild in its own process.
const runWorker = async (events: number, version: number, eventsFile: string, namespace: string, pageSize: number, segmentSize: number): Promise<RunResult> => {
  const client = await connectRedis(REDIS_URL);
  const registry = createRedisReadModelRegistry({ client, namespace });
  const eventStore = createSqliteEventStore({ path: eventsFile });
  const send = (args: string[]) => client.sendCommand(args);
  const redisCpuBefore = await redisCpuSeconds(send);
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const result = await rebuildReadModelVersion({ registry, eventStore }, version, { projection: version, pageSize, segmentSize });
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const redisCpu = (await redisCpuSeconds(send)) - redisCpuBefore;
  if (result.events !== events) throw new Error(`rebuilt ${result.events} events, expected ${events}`);
  const readModels = registry.readModels(version);
  const users = (await readModels.countUsers('active')) + (await readModels.countUsers('suspended'));
  await eventStore.close();
  await registry.close();
  return {
    events,
    seconds,
    eventsPerSecond: Math.round(events / seconds),
    peakRssMb: peakRssMb(),
    nodeCpuUsPerEvent: perEvent((cpu.user + cpu.system) / 1e6, events),
    redisCpuUsPerEvent: perEvent(redisCpu, events),
    users,
  };
};

const bundleSelf = async (dir: string): Promise<string> => {
  const { build } = await import('esbuild');
  const outfile = path.join(dir, 'rebuild.bench.mjs');
  await build({ entryPoints: [import.meta.filename], bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', outfile, logLevel: 'error' });
  return outfile;
};

const spawnWorker = (bundle: string, events: number, eventsFile: string, pageSize: number, segmentSize: number): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const version = 900_000 + Math.floor(Math.random() * 99_000);
    const namespace = `rm-bench:${version}:`;
    const child = spawn(process.execPath, [...cpuProfileFlags(), bundle, '--worker', String(events), String(version), eventsFile, namespace, String(pageSize), String(segmentSize)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, REDIS_URL },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('exit', (code) => {
      void Promise.all([deleteKeys(`${readModelKeys(version).prefix}*`), deleteKeys(`${namespace}*`)]).then(() => {
        if (code !== 0) return reject(new Error(`worker exited with ${code}`));
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as RunResult);
      }, reject);
    });
  });

const seedEventsFile = (file: string, events: number): void => {
  const db = openSqliteDatabase(file);
  migrateEventsSchema(db);
  const insert = db.prepare('INSERT INTO events (position, id, stream_id, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const rows = wireTraffic(events, SEED, undefined, SHAPE);
  const insertMany = db.transaction((max: number) => {
    for (let n = 0; n < max; n++) {
      const next = rows.next();
      if (next.done === true) return;
      const e = next.value;
      insert.run(e.position, e.id, e.streamId, e.revision, e.type, e.data, e.metadata, e.recordedAt);
    }
  });
  for (let written = 0; written < events; written += 50_000) insertMany(50_000);
  db.close();
};

/** The final state the rebuild ends with, as plain commands in batches of `batchUsers` users (made outside any timing). */
const finalWrites = (events: number, version: number, batchUsers: number): string[][][] => {
  const keys = readModelKeys(version);
  const users = new Map<string, Omit<UserView, 'revision' | 'position'> & { revision: bigint; position: bigint }>();
  for (const wire of wireTraffic(events, SEED, undefined, SHAPE)) {
    const projected = projectStoredEvent(decodeWireEvent(wire));
    for (const change of projected.changes) {
      if (change.type === 'userCreated') users.set(change.user.id, { ...change.user, revision: projected.revision, position: projected.position });
      else if (change.type === 'userPatched') {
        const user = users.get(change.userId);
        if (user !== undefined) users.set(change.userId, { ...user, ...Object.fromEntries(Object.entries(change.fields).filter(([, v]) => v !== undefined)), revision: projected.revision, position: projected.position });
      }
    }
  }
  const batches: string[][][] = [];
  let batch: string[][] = [];
  for (const user of users.values()) {
    const order = orderKeyOf(user.registeredAt, user.id);
    batch.push(
      ['HSET', keys.user(user.id), 'id', user.id, 'email', user.email, 'displayName', user.displayName, 'status', user.status, 'emailVerified', user.emailVerified ? '1' : '0', 'registeredAt', user.registeredAt, 'order', order, 'revision', user.revision.toString(), 'position', user.position.toString()],
      ['SADD', keys.statusSet(user.status), user.id],
      ['ZADD', keys.statusRegistrationOrder(user.status), '0', order],
      ['HSET', keys.emailIndex, user.email, user.id],
      ['HSET', keys.applied, `user-${user.id}`, user.revision.toString()],
    );
    if (batch.length >= batchUsers * 5) {
      batches.push(batch);
      batch = [];
    }
  }
  batch.push(['SET', keys.checkpoint, String(events)]);
  batches.push(batch);
  return batches;
};

/** The raw pipelined-RESP baseline: every batch encoded beforehand, written to a socket, done when every reply is in. */
const rawRespBaseline = async (events: number, batchUsers: number): Promise<{ eventsPerSecond: number; redisCpuUsPerEvent: number; commands: number }> => {
  const version = 800_000 + Math.floor(Math.random() * 99_000);
  const encoded = finalWrites(events, version, batchUsers).map((batch) => ({ buffer: encodeResp(batch), replies: batch.length }));
  const probe = await connectRedis(REDIS_URL);
  const cpuBefore = await redisCpuSeconds((args) => probe.sendCommand(args));
  const connection = await connectRawResp(REDIS_URL);
  const startedAt = performance.now();
  for (const { buffer, replies } of encoded) await connection.send(buffer, replies);
  const seconds = (performance.now() - startedAt) / 1000;
  connection.close();
  const redisCpu = (await redisCpuSeconds((args) => probe.sendCommand(args))) - cpuBefore;
  await probe.close();
  await deleteKeys(`${readModelKeys(version).prefix}*`);
  return { eventsPerSecond: Math.round(events / seconds), redisCpuUsPerEvent: perEvent(redisCpu, events), commands: encoded.reduce((sum, b) => sum + b.replies, 0) };
};

const main = async (): Promise<void> => {
  const quick = process.argv.includes('--quick');
  const events = Number(argValue('--events') ?? (quick ? 100_000 : 1_000_000));
  const runs = Number(argValue('--runs') ?? 3);
  const pageSize = Number(argValue('--page') ?? 5_000);
  const segmentSize = Number(argValue('--segment') ?? REBUILD_SEGMENT_SIZE);
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chronicle-rebuild-bench-'));
  const eventsFile = path.join(dir, 'events.sqlite');
  const bundleDir = (mkdirSync(path.join(import.meta.dirname, '..', '.tmp'), { recursive: true }), mkdtempSync(path.join(import.meta.dirname, '..', '.tmp', 'bench-')));
  const privateRedis = REDIS_URL === '' ? await startPrivateRedis() : null;
  if (privateRedis !== null) REDIS_URL = privateRedis.url;
  const loadAtStart = os.loadavg();
  try {
    const bundle = await bundleSelf(bundleDir);
    log(`seeding ${events} events; Redis at ${REDIS_URL}${privateRedis === null ? '' : ' (private)'}`);
    seedEventsFile(eventsFile, events);
    const rebuilds: RunResult[] = [];
    const baselines: Array<Awaited<ReturnType<typeof rawRespBaseline>>> = [];
    for (let run = 1; run <= runs; run++) {
      rebuilds.push(await spawnWorker(bundle, events, eventsFile, pageSize, segmentSize));
      const r = rebuilds.at(-1);
      log(`run ${run}/${runs} rebuild: ${r?.eventsPerSecond} events/s in ${r?.seconds.toFixed(2)} s, peak RSS ${r?.peakRssMb} MB, CPU/event Node ${r?.nodeCpuUsPerEvent} µs, Redis ${r?.redisCpuUsPerEvent} µs, ${r?.users} users`);
      baselines.push(await rawRespBaseline(events, 1_000));
      const b = baselines.at(-1);
      log(`run ${run}/${runs} baseline (final writes, raw RESP pipelined): ${b?.eventsPerSecond} events/s, Redis CPU/event ${b?.redisCpuUsPerEvent} µs, ${b?.commands} commands`);
    }
    const eventsPerSecond = median(rebuilds.map((r) => r.eventsPerSecond));
    const baselinePerSecond = median(baselines.map((b) => b.eventsPerSecond));
    const cpus = os.cpus();
    const result = {
      events,
      runs,
      pageSize,
      segmentSize,
      eventsPerUser: Math.round((events / (rebuilds[0]?.users ?? events)) * 100) / 100,
      eventsPerSecond,
      peakRssMb: Math.max(...rebuilds.map((r) => r.peakRssMb)),
      nodeCpuUsPerEvent: median(rebuilds.map((r) => r.nodeCpuUsPerEvent)),
      redisCpuUsPerEvent: median(rebuilds.map((r) => r.redisCpuUsPerEvent)),
      baseline: {
        eventsPerSecond: baselinePerSecond,
        redisCpuUsPerEvent: median(baselines.map((b) => b.redisCpuUsPerEvent)),
        note: 'the final state the rebuild ends with (per user: hash, status set, registration order, email index, applied revision; the checkpoint) as raw RESP pipelined 1,000 users per round trip, encoded beforehand; only the round trips timed',
      },
      ratio: Math.round((eventsPerSecond / baselinePerSecond) * 100) / 100,
      rebuilds,
      baselines,
      machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, loadAverage: { atStart: loadAtStart, atEnd: os.loadavg() } },
      redis: privateRedis === null ? 'REDIS_URL' : 'private redis-server, loopback',
      date: new Date().toISOString(),
      node: process.version,
    };
    const file = argValue('--out') ?? (quick ? 'rebuild-quick.json' : 'rebuild.json');
    mkdirSync(path.join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(path.join(import.meta.dirname, 'results', file), `${JSON.stringify(result, null, 2)}\n`);
    log(`\n${events} events, median of ${runs}, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} → ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}:`);
    log(`rebuild ${eventsPerSecond} events/s, peak RSS ${result.peakRssMb} MB; baseline ${baselinePerSecond} events/s; ratio ${result.ratio}; written to bench/results/${file}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
    await privateRedis?.stop();
  }
};

const workerAt = process.argv.indexOf('--worker');
if (workerAt >= 0) {
  const [events, version, eventsFile, namespace, pageSize, segmentSize] = process.argv.slice(workerAt + 1);
  const result = await runWorker(Number(events), Number(version), eventsFile ?? '', namespace ?? '', Number(pageSize), Number(segmentSize));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  await main();
}
