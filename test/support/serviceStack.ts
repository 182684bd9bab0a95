import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mintDevToken, type DevTokenRequest } from '#scripts/devIssuer';
import { freePort } from './ports.ts';
import { testRegistryNamespace } from './projectorProcess.ts';
import { tempDir } from './tempDir.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServiceStack {
  readonly baseUrl: string;
  readonly dataDir: string;
  /** The stack's recent output, for failure messages. */
  output(): string;
  /** A bearer token of the stack's local development issuer (what `npm run token` prints). */
  token(request: DevTokenRequest): Promise<string>;
  /** SIGTERM to `npm start`'s process (it stops its children), SIGKILL to every group if that hangs. */
  stop(): Promise<void>;
}

export interface ServiceStackOptions {
  /** Extra environment for the stack (e.g. EVENTSTORE_CONNECTION_STRING). */
  readonly env?: Readonly<Record<string, string>>;
  readonly bootTimeoutMs?: number;
}

const killGroup = (pid: number, signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
};

/**
 * Boots what `npm start` boots — serverless offline and the projector — on free ports with a
 * fresh DATA_DIR, and resolves once it prints its base URL. The embedded default unless
 * `env` says otherwise (outer EVENTSTORE_CONNECTION_STRING / REDIS_URL are not inherited).
 */
export const startServiceStack = async (options: ServiceStackOptions = {}): Promise<ServiceStack> => {
  // Ports are picked free and then bound by another process: another test may take one in
  // between (EADDRINUSE). A stack that failed only for that starts again on other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServiceStackOnce(options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error && error.message.includes('EADDRINUSE'))) throw error;
    }
  }
};

const startServiceStackOnce = async (options: ServiceStackOptions): Promise<ServiceStack> => {
  const port = await freePort();
  const data = tempDir('chronicle-e2e-');
  const esbuildDir = path.join('.tmp', `esbuild-e2e-${port}`);
  const cleanUp = (): void => {
    data.remove();
    rmSync(path.join(root, esbuildDir), { recursive: true, force: true });
  };
  const lines: string[] = [];
  const groups: number[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      EVENTSTORE_CONNECTION_STRING: '',
      REDIS_URL: '',
      LAMBDA_PORT: '',
      AUTH_ISSUER: '',
      CHRONICLE_DEV_ISSUER: '',
      CONSISTENCY_TOKEN_KEY: '',
      EMAIL_RESERVATION_KEY: '',
      PROJECTOR_HEALTH_PORT: '',
      CHRONICLE_ESBUILD_DIR: esbuildDir,
      // Nothing rebuilds under a running test, whoever edits the sources meanwhile.
      CHRONICLE_WATCH_PATTERN: '.tmp/no-watch/**',
      PROJECTOR_BATCH_MAX_WAIT_MS: '20',
      CONSISTENCY_WAIT_MS: '5000',
      READ_MODEL_REGISTRY_NAMESPACE: testRegistryNamespace(options.env ?? {}),
      ...options.env,
      PORT: String(port),
      DATA_DIR: data.path,
    },
  });
  if (child.pid === undefined) throw new Error('could not spawn scripts/start.ts');
  const startPid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack did not start within ${options.bootTimeoutMs ?? 150_000} ms:\n${lines.join('\n')}`)), options.bootTimeoutMs ?? 150_000);
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (lines.length > 400) lines.shift();
        const groupsLine = /^\[start\] process groups api=(\d+) projector=(\d+)/.exec(line);
        if (groupsLine) groups.push(Number(groupsLine[1]), Number(groupsLine[2]));
        const ready = /^Chronicle is listening on (http:\/\/\S+)/.exec(line);
        if (ready?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(ready[1]);
        }
      });
    }
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the stack exited before it was ready:\n${lines.join('\n')}`));
    });
  }).catch(async (error: unknown) => {
    for (const pid of [startPid, ...groups]) killGroup(pid, 'SIGKILL');
    await exited;
    cleanUp();
    throw error;
  });

  // A stack that dies under a running test explains itself in the test's output.
  let stopping = false;
  void exited.then(() => {
    if (!stopping) console.error(`[serviceStack] the stack on ${baseUrl} exited while in use; its last lines:\n${lines.slice(-80).join('\n')}`);
  });

  const stop = async (): Promise<void> => {
    stopping = true;
    killGroup(startPid, 'SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 25_000))]);
    // Whatever is left (a hung child, or all of them if start.ts itself hung) goes now.
    for (const pid of [startPid, ...groups]) if (!stopped || killGroup(pid, 0)) killGroup(pid, 'SIGKILL');
    cleanUp();
  };

  return { baseUrl, dataDir: data.path, output: () => lines.join('\n'), token: (request) => mintDevToken(data.path, request), stop };
};
