import { spawn, type ChildProcess } from 'node:child_process';
import { createClient } from 'redis';
import { freePort, isListening } from './ports.ts';

export const sharedRedisUrl = (): string => process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export const isRedisAnswering = async (url = sharedRedisUrl()): Promise<boolean> => {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) await client.quit().catch(() => undefined);
  }
};

/**
 * Suites that need the shared Redis call this as `beforeEach(({ skip }) => requireRedis(skip))`
 * (vitest 4 gives beforeAll no skip). In CI a missing Redis fails every test (a skip would
 * hide it); locally it only marks them skipped.
 */
export const requireRedis = async (skip: (note?: string) => void, url = sharedRedisUrl()): Promise<void> => {
  if (await isRedisAnswering(url)) return;
  if (process.env['CI']) throw new Error(`Redis is not answering at ${url}, and CI requires it`);
  skip(`Redis is not answering at ${url}`);
};

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, or SIGKILL when hard) and waits until it is gone. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port (empty: no persistence, unless an RDB file was put in its `dir`). */
  start(): Promise<void>;
}

const waitUntilListening = async (port: number, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isListening(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

export interface PrivateRedisOptions {
  /**
   * The server's working directory (`--dir`), where a SAVE or a replica's sync writes its RDB
   * file (dump.rdb); by default the test process's working directory.
   */
  readonly dir?: string;
}

/** A redis-server of the test's own, for tests that stop and restart it. */
export const startPrivateRedis = async (options: PrivateRedisOptions = {}): Promise<PrivateRedis> => {
  const port = await freePort();
  const dir = options.dir === undefined ? [] : ['--dir', options.dir];
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitUntilListening(port);
  };
  const stop = async (hard = false): Promise<void> => {
    const running = child;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
    child = null;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
};
