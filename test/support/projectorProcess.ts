import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { generateUserTraffic } from './userTraffic.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export type LogLine = Readonly<Record<string, unknown>> & { readonly message?: string };

export interface ProjectorProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line (past or future) with this message. */
  waitForLog(message: string, timeoutMs?: number): Promise<LogLine>;
  /** Sends the signal and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

export interface ProjectorBundle {
  readonly file: string;
  remove(): void;
}

/**
 * The projector bundled the way the Dockerfile bundles it (one ESM file, packages external).
 * It lives under .tmp/ in the repository so that its imports resolve from node_modules; a
 * process starts from it in a fraction of the time tsx takes to compile the sources.
 */
export const bundleProjector = async (): Promise<ProjectorBundle> => {
  const dir = path.join(REPO_ROOT, '.tmp', `projector-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'projector.mjs');
  await build({
    entryPoints: [path.join(REPO_ROOT, 'src/projector/main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    outfile: file,
    logLevel: 'error',
  });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

/**
 * The projector as its own process, started with node directly (not through npx), so that a
 * SIGKILL hits the projector itself: from a bundle when given one, else `src/projector/main.ts`
 * through tsx. Environment: the given variables over a clean base (no inherited
 * EVENTSTORE_CONNECTION_STRING or REDIS_URL).
 */
/**
 * Tests share one Redis and tell their read models apart by a unique READ_MODEL_VERSION; each
 * version gets a registry of its own too (stable across restarts), so that no run's projector
 * sees another run's version as the active one.
 */
export const testRegistryNamespace = (env: Readonly<Record<string, string>>): string => `rm-test:v${env['READ_MODEL_VERSION'] ?? '1'}:`;

export const startProjectorProcess = (env: Readonly<Record<string, string>>, bundle?: ProjectorBundle): ProjectorProcess => {
  const base = { ...process.env };
  delete base['EVENTSTORE_CONNECTION_STRING'];
  delete base['REDIS_URL'];
  const args = bundle === undefined ? ['--import', 'tsx', 'src/projector/main.ts'] : [bundle.file];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...base, LOG_LEVEL: 'info', PROJECTOR_HEALTH_PORT: '0', READ_MODEL_REGISTRY_NAMESPACE: testRegistryNamespace(env), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const listeners = new Set<(line: LogLine) => void>();
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const text of lines) {
      if (text.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { message: text };
      }
      logs.push(line);
      for (const listener of listeners) listener(line);
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  return {
    child,
    logs,
    exited,
    waitForLog(message, timeoutMs = 15_000) {
      const found = logs.find((line) => line.message === message);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`projector did not log "${message}" within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const listener = (line: LogLine): void => {
          if (line.message !== message) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(line);
        };
        listeners.add(listener);
        void exited.then(({ code, signal }) => {
          if (!listeners.has(listener)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          reject(new Error(`projector exited (${code ?? signal}) before logging "${message}"; stderr: ${stderr}`));
        });
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
};

/** Appends `count` events of realistic traffic to the SQLite event store at `file`; answers the head position. */
export const seedSqliteEventStore = async (file: string, count: number, seed: number): Promise<bigint> => {
  const store = createSqliteEventStore({ path: file });
  try {
    for (const { streamId, event } of generateUserTraffic(count, { seed })) await store.appendToStream(streamId, [event], { expectedRevision: 'any' });
    return (await store.headPosition()) ?? 0n;
  } finally {
    await store.close();
  }
};
