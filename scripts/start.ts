/**
 * `npm start`: the whole service on this machine — the Lambdas under the real `serverless
 * offline` and the projector (what `npm run projector` runs) — on the configuration from the environment
 * (the embedded SQLite default unless EVENTSTORE_CONNECTION_STRING / REDIS_URL say otherwise).
 * Prints the base URL once both answer their health checks; one Ctrl-C (or SIGTERM) stops both.
 *
 * Each child runs in its own process group, so stopping signals the whole group: nothing
 * (npm, tsx, worker processes) is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEV_ADMIN_SCOPE, DEV_AUDIENCE, DEV_ISSUER, DEV_VERIFIER_SCOPE, localHttpSecrets, serveDevJwks } from './devIssuer.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STOP_GRACE_MS = 15_000;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });

const portFrom = (name: string, fallback: number | null): number | null => {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    console.error(`[start] ${name} must be a TCP port (1-65535), got "${raw}"`);
    process.exit(2);
  }
  return port;
};

const log = (message: string): void => console.log(`[start] ${message}`);

const port = portFrom('PORT', 3000) as number;
const lambdaPort = portFrom('LAMBDA_PORT', null) ?? (await freePort());
const healthPort = portFrom('PROJECTOR_HEALTH_PORT', null) ?? (await freePort());
const startTimeoutMs = Number(process.env['START_TIMEOUT_MS'] ?? 180_000);
// A private bundle folder per run: parallel stacks and `serverless package` never share one.
const ownEsbuildDir = process.env['CHRONICLE_ESBUILD_DIR'] === undefined;
const esbuildDir = process.env['CHRONICLE_ESBUILD_DIR'] ?? path.join('.tmp', `esbuild-${process.pid}`);
const baseUrl = `http://127.0.0.1:${port}`;

const dataDir = path.resolve(root, process.env['DATA_DIR'] ?? '.data');
const given = (name: string): boolean => (process.env[name]?.trim() ?? '') !== '';

/**
 * The local development issuer runs on the embedded default, unless an issuer is configured.
 * With production stores it never runs unless CHRONICLE_DEV_ISSUER=true asks for it: a
 * service that holds real data must not accept tokens anyone with this checkout can mint.
 */
const productionStores = given('EVENTSTORE_CONNECTION_STRING') || given('REDIS_URL');
const devIssuerWanted = process.env['CHRONICLE_DEV_ISSUER']?.trim();
const useDevIssuer = devIssuerWanted === 'true' || (devIssuerWanted !== 'false' && !productionStores && !given('AUTH_ISSUER'));
const devIssuer = useDevIssuer ? await serveDevJwks(dataDir) : null;
const authEnv: NodeJS.ProcessEnv =
  devIssuer === null
    ? {}
    : {
        AUTH_ISSUER: DEV_ISSUER,
        AUTH_AUDIENCE: DEV_AUDIENCE,
        AUTH_JWKS_URL: devIssuer.jwksUrl,
        AUTH_ADMIN_SCOPE: DEV_ADMIN_SCOPE,
        AUTH_VERIFIER_SCOPE: DEV_VERIFIER_SCOPE,
        ...(given('CONSISTENCY_TOKEN_KEY') || given('EMAIL_RESERVATION_KEY') ? {} : localHttpSecrets(dataDir)),
      };

const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...authEnv,
  PORT: String(port),
  LAMBDA_PORT: String(lambdaPort),
  PROJECTOR_HEALTH_PORT: String(healthPort),
  DATA_DIR: dataDir,
  CHRONICLE_ESBUILD_DIR: esbuildDir,
  SLS_TELEMETRY_DISABLED: '1',
  // esbuild's service is a Go process that otherwise keeps the peak heap of bundling every
  // function (~1.3 GB): a soft memory limit makes its GC hand memory back after the builds.
  GOMEMLIMIT: process.env['GOMEMLIMIT'] ?? '256MiB',
  SLS_NOTIFICATIONS_MODE: 'off',
};

const children = new Map<string, ChildProcess>();
let stopping = false;

const pipeLines = (name: string, child: ChildProcess): void => {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    readline.createInterface({ input: stream }).on('line', (line) => {
      if (line.trim() !== '') console.log(`[${name}] ${line}`);
    });
  }
};

const run = (name: string, command: string, args: readonly string[]): ChildProcess => {
  const child = spawn(command, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(name, child);
  pipeLines(name, child);
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[start] ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
    void stopAll(1);
  });
  return child;
};

const signalGroup = (child: ChildProcess, signal: NodeJS.Signals | 0): boolean => {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false; // the group is gone already
  }
};

const groupAlive = (child: ChildProcess): boolean => signalGroup(child, 0);

const waitForGroup = async (child: ChildProcess, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(child)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
};

async function stopAll(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping');
  const all = [...children.values()];
  for (const child of all) signalGroup(child, 'SIGTERM');
  await Promise.all(
    all.map(async (child) => {
      if (!(await waitForGroup(child, STOP_GRACE_MS))) {
        signalGroup(child, 'SIGKILL');
        await waitForGroup(child, 2_000);
      }
    }),
  );
  await devIssuer?.close();
  if (ownEsbuildDir) rmSync(path.resolve(root, esbuildDir), { recursive: true, force: true });
  log('stopped');
  process.exit(exitCode);
}

// A second Ctrl-C does not wait for anyone. (The first arrives twice: from the terminal to
// the whole foreground group, and relayed by tsx, so a repeat within a second is the same one.)
let firstSignalAt = 0;
const onSignal = (): void => {
  if (stopping && Date.now() - firstSignalAt > 1_000) {
    for (const child of children.values()) signalGroup(child, 'SIGKILL');
    process.exit(130);
  }
  if (stopping) return;
  firstSignalAt = Date.now();
  void stopAll(0);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('exit', () => {
  for (const child of children.values()) signalGroup(child, 'SIGKILL');
});

const answers = async (url: string): Promise<boolean> => {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
};

const waitUntilReady = async (urls: readonly string[]): Promise<boolean> => {
  const deadline = Date.now() + startTimeoutMs;
  const pending = new Set(urls);
  while (pending.size > 0) {
    for (const url of [...pending]) if (await answers(url)) pending.delete(url);
    if (pending.size === 0 || stopping) break;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return !stopping;
};

const api = run('api', process.execPath, [path.join(root, 'node_modules/serverless/bin/serverless.js'), 'offline', 'start']);
// Node with tsx's loader directly, not `npm run projector`: npm and tsx's own launcher would be
// two more resident processes (about 100 MB) doing nothing.
const projector = run('projector', process.execPath, ['--import', 'tsx', path.join(root, 'src/projector/main.ts')]);
log(`process groups api=${api.pid} projector=${projector.pid}`);

if (await waitUntilReady([`${baseUrl}/health`, `http://127.0.0.1:${healthPort}/health`])) {
  log(`projector health on http://127.0.0.1:${healthPort}/health`);
  if (devIssuer !== null) log(`local development issuer ${DEV_ISSUER} (keys ${devIssuer.jwksUrl}); tokens: npm run -s token -- --sub <subject> [--admin]`);
  console.log(`Chronicle is listening on ${baseUrl}`);
} else if (!stopping) {
  console.error(`[start] not ready within ${startTimeoutMs} ms`);
  await stopAll(1);
}
