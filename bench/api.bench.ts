/**
 * npm run bench:api [-- --quick]
 *
 * The command path: registrations and email changes per second with p50/p99 latency at 1, 10
 * and 50 concurrent clients, with queries (GET /users/{id}) measured alongside, in three setups:
 * the Lambdas in-process on the embedded SQLite default, in-process on EventStoreDB (the
 * emulator), and through serverless-offline over HTTP with autocannon. In the same run the bare
 * event-store append of the same events at the same concurrency is the baseline, and each
 * command rate is given as a ratio of it. Results: bench/results/api.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { DEV_AUDIENCE, DEV_ISSUER, localHttpSecrets, mintDevToken, serveDevJwks } from '#scripts/devIssuer';
import { startEsdbEmulator } from '#test/support/esdb-emulator/index';
import { bundleProjector, startProjectorProcess } from '#test/support/projectorProcess';
import { startServiceStack } from '#test/support/serviceStack';
import { tempDir } from '#test/support/tempDir';
import { cpuProfileFlags } from './support/args.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const durationMs = values.quick ? 1_500 : 5_000;
const root = path.resolve(import.meta.dirname, '..');
const log = (line: string) => console.log(`[bench:api] ${line}`);

/** One in-process configuration in a fresh process (the wiring is read once per process). */
const runInProcess = async (name: string, storeEnv: Record<string, string>): Promise<Record<string, unknown>> => {
  const dir = tempDir(`chronicle-bench-api-${name}-`);
  const issuer = await serveDevJwks(dir.path);
  const env = {
    ...process.env,
    ...storeEnv,
    DATA_DIR: dir.path,
    AUTH_ISSUER: DEV_ISSUER,
    AUTH_AUDIENCE: DEV_AUDIENCE,
    AUTH_JWKS_URL: issuer.jwksUrl,
    ...localHttpSecrets(dir.path),
    LOG_LEVEL: 'warn',
    CONSISTENCY_WAIT_MS: '0',
    BENCH_ISSUER_DIR: dir.path,
    BENCH_DURATION_MS: String(durationMs),
  };
  const bundle = await bundleProjector();
  const projector = startProjectorProcess({ ...storeEnv, DATA_DIR: dir.path, PROJECTOR_GROUP: `bench-${Date.now()}` }, bundle);
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [...cpuProfileFlags(), '--import', 'tsx', 'bench/api/inProcessWorker.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${name} worker exited ${code}: ${text.slice(-2000)}`))));
    });
    const line = output.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (line === undefined) throw new Error(`${name} printed no result`);
    return JSON.parse(line.slice('BENCH_RESULT '.length)) as Record<string, unknown>;
  } finally {
    await projector.kill('SIGTERM');
    bundle.remove();
    await issuer.close();
    dir.remove();
  }
};

const cannon = (options: autocannon.Options): Promise<autocannon.Result> =>
  new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)));
  });

/** The same flows over HTTP through the real serverless-offline, on the embedded default. */
const runServerlessOffline = async (): Promise<Record<string, unknown>> => {
  const stack = await startServiceStack({ env: { LOG_LEVEL: 'warn' } });
  try {
    const results: Record<string, unknown> = {};
    for (const connections of [1, 10]) {
      const tokens = await Promise.all(Array.from({ length: connections * 600 }, (_, i) => mintDevToken(stack.dataDir, { subject: `bench-http-${connections}-${i}-${Date.now()}` })));
      let next = 0;
      const registration = await cannon({
        url: stack.baseUrl,
        connections,
        duration: durationMs / 1000,
        requests: [
          {
            method: 'POST',
            path: '/users',
            setupRequest: (request) => {
              const token = tokens[next++ % tokens.length] ?? '';
              return { ...request, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ email: `http-${next}-${Date.now()}@example.com`, displayName: 'Bench' }) };
            },
          },
        ],
      });
      // Queries read a user that exists (one registered for them), as an admin.
      const queried = await fetch(`${stack.baseUrl}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await mintDevToken(stack.dataDir, { subject: `bench-queried-${connections}-${Date.now()}` })}` },
        body: JSON.stringify({ email: `queried-${connections}-${Date.now()}@example.com`, displayName: 'Queried' }),
      });
      if (queried.status !== 201) throw new Error(`registering the queried user answered ${queried.status}`);
      const { id } = (await queried.json()) as { id: string };
      const admin = await mintDevToken(stack.dataDir, { subject: 'bench-admin', admin: true });
      const query = await cannon({ url: `${stack.baseUrl}/users/${id}`, connections, duration: durationMs / 1000, headers: { authorization: `Bearer ${admin}` } });
      const figures = (r: autocannon.Result) => ({ requestsPerSecond: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
      results[String(connections)] = { registration: figures(registration), query: figures(query) };
    }
    return results;
  } finally {
    await stack.stop();
  }
};

log(`${durationMs} ms per measurement; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const inProcessSqlite = await runInProcess('sqlite', { EVENTSTORE_CONNECTION_STRING: '', REDIS_URL: '' });
log(`in-process SQLite: ${JSON.stringify(inProcessSqlite)}`);
const emulator = await startEsdbEmulator();
const inProcessEmulator = await runInProcess('emulator', { EVENTSTORE_CONNECTION_STRING: emulator.connectionString, REDIS_URL: '' }).finally(() => emulator.stop());
log(`in-process EventStoreDB (emulator): ${JSON.stringify(inProcessEmulator)}`);
const serverlessOffline = await runServerlessOffline();
log(`serverless-offline: ${JSON.stringify(serverlessOffline)}`);

const at10 = (inProcessSqlite['10'] ?? {}) as { registration?: { perSecond: number; p99Ms: number } };
const result = {
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadAverageAtEnd: os.loadavg() },
  durationMsPerMeasurement: durationMs,
  inProcessSqlite: { registrationsPerSecond: at10.registration?.perSecond ?? null, p99Ms: at10.registration?.p99Ms ?? null, byClients: inProcessSqlite },
  inProcessEmulator: { byClients: inProcessEmulator },
  serverlessOffline: { byConnections: serverlessOffline },
};
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results', values.quick ? 'api-quick.json' : 'api.json'), `${JSON.stringify(result, null, 2)}\n`);
log(`written; at 10 clients in-process on SQLite: ${at10.registration?.perSecond ?? '?'} registrations/s, p99 ${at10.registration?.p99Ms ?? '?'} ms`);
process.exit(0);
