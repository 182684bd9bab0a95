import fc from 'fast-check';

/**
 * How every property test runs, so that a failure can always be replayed:
 *
 * - each run draws a fresh seed (that is how properties find new cases), unless
 *   `PROPERTY_SEED` pins it;
 * - a failure throws a message with the seed, the shrink path and the exact command that
 *   replays it (`PROPERTY_SEED=… PROPERTY_PATH=… npx vitest run <file> -t '<name>'`);
 * - `PROPERTY_RUNS_FACTOR` (default 1) scales every property's number of runs, for a long
 *   exploration locally; CI keeps the default, sized so that all properties together stay
 *   within about a minute;
 * - `PROPERTY_NO_SHRINK=1` reports the first failing case as found (properties that wait on
 *   timers can take long to shrink).
 */
export interface PropertyRunOptions {
  /** The test's file, for the replay command (`import.meta.url`). */
  readonly file: string;
  /** The test's name, for `-t`. */
  readonly name: string;
  /** Runs at factor 1. */
  readonly numRuns: number;
  /** Per-run time bound in ms (fast-check's `interruptAfterTimeLimit` is for the whole check). */
  readonly timeoutMs?: number;
}

const envNumber = (name: string): number | undefined => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got '${raw}'`);
  return value;
};

const relativeFile = (fileUrl: string): string => {
  const path = fileUrl.startsWith('file://') ? new URL(fileUrl).pathname : fileUrl;
  const at = path.lastIndexOf('/test/');
  return at < 0 ? path : path.slice(at + 1);
};

/** The fast-check parameters of one property: seed, path and number of runs from the environment. */
export const propertyParameters = <T>(options: PropertyRunOptions): fc.Parameters<T> => {
  const seed = envNumber('PROPERTY_SEED') ?? Math.floor(Math.random() * 0x7fffffff);
  const path = process.env['PROPERTY_PATH'];
  const factor = envNumber('PROPERTY_RUNS_FACTOR') ?? 1;
  return {
    seed,
    numRuns: Math.max(1, Math.round(options.numRuns * factor)),
    ...(path === undefined || path === '' ? {} : { path }),
    ...(process.env['PROPERTY_NO_SHRINK'] ? { endOnFailure: true } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
  };
};

const replayMessage = (options: PropertyRunOptions, details: fc.RunDetails<unknown>): string => {
  const path = details.counterexamplePath ?? '';
  const command = `PROPERTY_SEED=${details.seed} PROPERTY_PATH=${path} npx vitest run ${relativeFile(options.file)} -t '${options.name}'`;
  return [`Property '${options.name}' failed (seed ${details.seed}, path ${path}).`, `Replay with:`, `  ${command}`, '', fc.defaultReportMessage(details) ?? ''].join('\n');
};

const fail = (options: PropertyRunOptions, details: fc.RunDetails<unknown>): never => {
  const error = new Error(replayMessage(options, details));
  if (details.errorInstance instanceof Error) error.cause = details.errorInstance;
  throw error;
};

/** Checks a synchronous property; on failure throws the replay instructions with the counterexample. */
export const checkProperty = <T>(property: fc.IProperty<T>, options: PropertyRunOptions): void => {
  const details = fc.check(property, propertyParameters<T>(options));
  if (details.failed) fail(options, details as fc.RunDetails<unknown>);
};

/** Checks an asynchronous property; on failure throws the replay instructions with the counterexample. */
export const checkAsyncProperty = async <T>(property: fc.IAsyncProperty<T>, options: PropertyRunOptions): Promise<void> => {
  const details = await fc.check(property, propertyParameters<T>(options));
  if (details.failed) fail(options, details as fc.RunDetails<unknown>);
};
