import { loadConfig } from '#config';
import { resolveSecretEnv } from '#secretEnv';
import type { ParkedEvent } from '#ports/eventSource';
import { openLogSide } from './projectorAdapters.ts';

/**
 * `npm run parked -- list [--max N]` prints the parked events (stream, revision, type, reason,
 * time); `npm run parked -- replay` sends them all back to the subscription and prints how many.
 */
const USAGE = 'usage: npm run parked -- list [--max <count>] | replay';

const formatRow = ({ event, reason, parkedAt }: ParkedEvent): string =>
  [parkedAt.toISOString(), event.streamId, event.revision.toString(), event.type, `position ${event.position}`, reason].join('\t');

const main = async (args: readonly string[]): Promise<number> => {
  const [command, ...rest] = args;
  if (command !== 'list' && command !== 'replay') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const log = openLogSide(loadConfig(await resolveSecretEnv(process.env)));
  try {
    if (command === 'replay') {
      const count = await log.parked.replay();
      process.stdout.write(`replayed ${count} parked event${count === 1 ? '' : 's'}\n`);
      return 0;
    }
    const maxIndex = rest.indexOf('--max');
    const maxCount = maxIndex >= 0 ? Number(rest[maxIndex + 1]) : undefined;
    if (maxCount !== undefined && !(Number.isInteger(maxCount) && maxCount > 0)) {
      process.stderr.write(`--max must be a whole number above 0\n${USAGE}\n`);
      return 2;
    }
    const parked = await log.parked.list(maxCount === undefined ? {} : { maxCount });
    if (parked.length === 0) process.stdout.write('no parked events\n');
    else process.stdout.write(`parked at\tstream\trevision\ttype\tposition\treason\n${parked.map(formatRow).join('\n')}\n`);
    return 0;
  } finally {
    await log.close();
  }
};

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
