import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

/** `npm run read-models -- <args> --json` against a stack's DATA_DIR: exit code and parsed output. */
export const readModelsCli = async (dataDir: string, ...args: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> => {
  const env = { ...process.env, DATA_DIR: dataDir, EVENTSTORE_CONNECTION_STRING: '', REDIS_URL: '' };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/projector/readModelsCli.ts', ...args, '--json'], { cwd: root, env });
    return { code: 0, json: JSON.parse(stdout) as Record<string, unknown>, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    const stdout = failed.stdout ?? '';
    return { code: failed.code ?? 1, json: stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>), stderr: failed.stderr ?? '' };
  }
};
