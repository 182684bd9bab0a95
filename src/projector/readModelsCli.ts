import { activateReadModelVersion, readModelStatus, rebuildReadModelVersion, type RegistryStatus } from '#application/readModelVersions';
import { userBatchProjection } from '#application/userProjection';
import { verifyReadModel } from '#application/verifyReadModel';
import { openDataKeyStore, userKeysFor } from '../dataKeysWiring.ts';
import { loadConfig } from '#config';
import { isChronicleError } from '#domain/errors';
import { createProgressBar } from './progressBar.ts';
import { openLogSide, openReadModelRegistry } from './projectorAdapters.ts';
import { createJsonLogger } from '#logging/jsonLogger';

/**
 * npm run read-models -- status | rebuild <N> | activate <N> [--force] | drop <N> | verify <N> [--sample <k>]
 * Every command takes --json (one JSON document on stdout, for scripts); long work shows a
 * progress bar on a TTY. Exit status: 0 done, 1 refused or failed, 2 bad usage.
 */
const USAGE = 'usage: npm run read-models -- status | rebuild <N> | activate <N> [--force] | drop <N> | verify <N> [--sample <k>]  [--json]';

class UsageError extends Error {}

const versionArg = (value: string | undefined): number => {
  const version = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || !Number.isSafeInteger(version) || version < 1) throw new UsageError('the version must be a whole number from 1');
  return version;
};

const optionValue = (args: readonly string[], name: string): string | undefined => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};

const replacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);
const printJson = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, replacer, 2)}\n`);

const formatStatus = (status: RegistryStatus): string => {
  const rows = status.versions.map((v) =>
    [v.active ? '*' : ' ', String(v.version), v.state, String(v.projection), v.checkpoint?.toString() ?? '-', `${v.lag}${v.lagCapped ? '+' : ''}`, String(v.users), String(v.heldStreams), v.updatedAt].join('\t'),
  );
  return [
    `head of the log: ${status.head?.toString() ?? 'empty'}; active version: ${status.active ?? 'none (READ_MODEL_VERSION is read)'}`,
    ['active', 'version', 'state', 'projection', 'checkpoint', 'lag (events)', 'users', 'held streams', 'updated'].join('\t'),
    ...rows,
  ].join('\n');
};

const main = async (args: readonly string[]): Promise<number> => {
  const json = args.includes('--json');
  const [command, versionText] = args.filter((arg) => arg !== '--json' && arg !== '--force');
  const config = loadConfig();
  const logger = createJsonLogger('read-models', 'warn');
  if (command === undefined || !['status', 'rebuild', 'activate', 'drop', 'verify'].includes(command)) throw new UsageError('unknown command');
  const version = command === 'status' ? 0 : versionArg(versionText);

  const log = openLogSide(config);
  const keyStore = await openDataKeyStore(config.dataKeys, log.esdbClient).catch(async (error: unknown) => {
    await log.close();
    throw error;
  });
  const registry = await openReadModelRegistry(config, logger).catch(async (error: unknown) => {
    await keyStore.close();
    await log.close();
    throw error;
  });
  // Registrations and email changes carry sealed personal fields: projecting them needs the users' keys.
  const keys = userKeysFor(keyStore, config.dataKeys);
  const deps = { registry, eventStore: log.eventStore, prepareBatch: userBatchProjection(keys) };
  try {
    switch (command) {
      case 'status': {
        const status = await readModelStatus(deps);
        if (json) printJson(status);
        else process.stdout.write(`${formatStatus(status)}\n`);
        return 0;
      }
      case 'rebuild': {
        const bar = createProgressBar(`rebuilding v${version}`);
        const stop = new AbortController();
        // Ctrl-C stops after the page in hand; rerunning continues from there.
        process.once('SIGINT', () => stop.abort());
        const started = Date.now();
        const result = await rebuildReadModelVersion(deps, version, {
          projection: config.readModelVersion,
          signal: stop.signal,
          onProgress: (p) => bar.update(p.events, null, `position ${p.position ?? '-'} of ${p.target ?? '-'}`),
        });
        bar.finish();
        const seconds = (Date.now() - started) / 1000;
        if (json) printJson({ version, ...result, seconds });
        else
          process.stdout.write(
            `${stop.signal.aborted ? 'interrupted' : 'rebuilt'} v${version}${result.fresh ? '' : ' (continued an earlier run from its checkpoint)'}: ${result.events} events in ${seconds.toFixed(1)} s, state ${result.state}, checkpoint ${result.position ?? '-'}` +
              `${result.poisoned > 0 ? `, ${result.poisoned} events skipped (projection failed)` : ''}${result.held > 0 ? `, ${result.held} writes held back` : ''}\n`,
          );
        return stop.signal.aborted ? 1 : 0;
      }
      case 'activate': {
        const result = await activateReadModelVersion(deps, version, { force: args.includes('--force'), maxLag: config.projector.versions.activationMaxLag });
        if (json) printJson({ version, ...result });
        else process.stdout.write(`v${version} is active (was ${result.previous ?? 'none'}; ${result.lag} events behind when switched)\n`);
        return 0;
      }
      case 'drop': {
        const bar = createProgressBar(`dropping v${version}`);
        const deleted = await registry.dropVersion(version, { batchSize: 1_000, onProgress: (count) => bar.update(count, null, 'keys/rows deleted') });
        bar.finish();
        if (json) printJson({ version, deleted });
        else process.stdout.write(`dropped v${version}: ${deleted} keys/rows deleted\n`);
        return 0;
      }
      case 'verify': {
        const sampleText = optionValue(args, '--sample');
        const sample = sampleText === undefined ? undefined : Number(sampleText);
        if (sample !== undefined && !(Number.isInteger(sample) && sample > 0)) throw new UsageError('--sample must be a whole number above 0');
        const bar = createProgressBar(`verifying v${version}`);
        const result = await verifyReadModel(
          { eventStore: log.eventStore, keys, readModels: registry.readModels(version) },
          { ...(sample === undefined ? {} : { sample }), onProgress: (checked, total) => bar.update(checked, total) },
        );
        bar.finish();
        if (json) printJson({ version, ...result });
        else {
          process.stdout.write(`v${version}: ${result.checked} of ${result.users} users checked, ${result.differences.length} differences\n`);
          for (const d of result.differences) process.stdout.write(`${d.userId}\t${d.field}\texpected ${d.expected ?? '(none)'}\tfound ${d.actual ?? '(none)'}\n`);
        }
        return result.differences.length === 0 ? 0 : 1;
      }
      default:
        throw new UsageError('unknown command');
    }
  } finally {
    await registry.close();
    await keyStore.close();
    await log.close();
  }
};

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  process.stderr.write(`${isChronicleError(error) ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
