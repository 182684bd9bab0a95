import { NotFoundError, RuleViolatedError, ValidationError } from '#domain/errors';
import type { ReadModelVersionRecord, ReadModelVersionState } from '#ports/readModels';

/** The registry's rules, shared by every adapter so that they answer alike (the contract suite checks). */
export const assertVersion = (version: number): void => {
  if (!Number.isSafeInteger(version) || version < 1) throw new ValidationError(`read-model version must be a positive whole number, got ${version}`);
};

export const versionNotFound = (version: number): NotFoundError =>
  new NotFoundError('VERSION_NOT_FOUND', `read-model version ${version} is not registered`, { version });

export const activeVersionChanged = (expected: number | null, actual: number | null): RuleViolatedError =>
  new RuleViolatedError('ACTIVE_VERSION_CHANGED', `the active read-model version is ${actual ?? 'none'}, not ${expected ?? 'none'}`, { expected, actual });

export const versionActive = (version: number): RuleViolatedError =>
  new RuleViolatedError('VERSION_ACTIVE', `read-model version ${version} is the active one: activate another first`, { version });

const STATES: ReadonlySet<string> = new Set<ReadModelVersionState>(['building', 'live', 'retired']);

/** Stored form: JSON text in Redis and SQLite alike. */
export const encodeVersionRecord = (record: ReadModelVersionRecord): string =>
  JSON.stringify({ state: record.state, projection: record.projection, createdAt: record.createdAt, updatedAt: record.updatedAt });

export const decodeVersionRecord = (version: number, text: string): ReadModelVersionRecord => {
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const state = parsed['state'];
  if (typeof state !== 'string' || !STATES.has(state)) throw new Error(`read-model version ${version} has a malformed registry record`);
  return {
    version,
    state: state as ReadModelVersionState,
    projection: typeof parsed['projection'] === 'number' ? parsed['projection'] : version,
    createdAt: String(parsed['createdAt'] ?? ''),
    updatedAt: String(parsed['updatedAt'] ?? ''),
  };
};

export const newVersionRecord = (version: number, projection: number, now: Date): ReadModelVersionRecord => ({
  version,
  state: 'building',
  projection,
  createdAt: now.toISOString(),
  updatedAt: now.toISOString(),
});
