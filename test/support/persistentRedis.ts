import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, isListening } from './ports.ts';

export interface PersistentRedis {
  readonly url: string;
  /** Kills the server (SIGKILL unless told otherwise) and waits until it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
}


/**
 * A private redis-server that keeps its data across a crash: append-only file, fsync on every
 * write, so whatever it acknowledged survives a SIGKILL — as a production Redis with AOF would.
 * (startPrivateRedis in redis.ts restarts empty, which models losing the read models instead.)
 */
export const startPersistentRedis = async (dataDir: string): Promise<PersistentRedis> => {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    while (!(await isListening(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  };
  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const running = child;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    await exited;
    child = null;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, stop, start };
};
