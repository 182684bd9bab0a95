import { RuleViolatedError } from '#domain/errors';
import type { EventStore } from '#ports/eventStore';
import type { ReadModelRegistry, ReadModelVersionRecord } from '#ports/readModels';
import { catchUpReadModel, USER_STREAM_PREFIXES, type CatchUpOptions, type CatchUpProgress, type PreparePage } from './catchUpReadModel.ts';

export interface VersionDeps {
  readonly registry: ReadModelRegistry;
  readonly eventStore: Pick<EventStore, 'readAll' | 'headPosition' | 'readStream'>;
  /** How a page of the log is projected (with its users' data keys); see catchUpReadModel. */
  readonly prepareBatch?: PreparePage;
}

/** Events are counted up to this bound when measuring lag; beyond it, "more than". */
export const LAG_COUNT_LIMIT = 10_000;

/**
 * How many user events the log holds past `checkpoint`, counted exactly up to `limit` (one
 * bounded read), so lag reads the same on SQLite (dense positions) and EventStoreDB (byte offsets).
 */
export const eventsBehind = async (eventStore: Pick<EventStore, 'readAll'>, checkpoint: bigint | null, limit = LAG_COUNT_LIMIT): Promise<number> =>
  (await eventStore.readAll({ fromPosition: (checkpoint ?? 0n) + 1n, maxCount: limit + 1, streamPrefixes: USER_STREAM_PREFIXES })).length;

export interface VersionStatus extends ReadModelVersionRecord {
  readonly active: boolean;
  readonly checkpoint: bigint | null;
  /** User events not applied yet; `lagCapped` when there are more than LAG_COUNT_LIMIT. */
  readonly lag: number;
  readonly lagCapped: boolean;
  readonly users: number;
  /** Streams held behind a parked event (their users read stale until `parked -- replay`), up to HELD_COUNT_LIMIT. */
  readonly heldStreams: number;
}

export const HELD_COUNT_LIMIT = 1_000;

export interface RegistryStatus {
  readonly active: number | null;
  readonly head: bigint | null;
  readonly versions: VersionStatus[];
}

export const readModelStatus = async (deps: VersionDeps): Promise<RegistryStatus> => {
  const [records, active, head] = await Promise.all([deps.registry.listVersions(), deps.registry.getActiveVersion(), deps.eventStore.headPosition()]);
  const versions = await Promise.all(
    records.map(async (record): Promise<VersionStatus> => {
      const readModels = deps.registry.readModels(record.version);
      const checkpoint = await readModels.getCheckpoint();
      const [behind, activeUsers, suspendedUsers, held] = await Promise.all([
        eventsBehind(deps.eventStore, checkpoint),
        readModels.countUsers('active'),
        readModels.countUsers('suspended'),
        readModels.listHeldStreams(HELD_COUNT_LIMIT),
      ]);
      return {
        ...record,
        active: record.version === active,
        checkpoint,
        lag: Math.min(behind, LAG_COUNT_LIMIT),
        lagCapped: behind > LAG_COUNT_LIMIT,
        users: activeUsers + suspendedUsers,
        heldStreams: held.length,
      };
    }),
  );
  return { active, head, versions };
};

export interface ActivateOptions {
  /** Refuse while the version lags the log by more than this many events (default 100). */
  readonly maxLag?: number;
  readonly force?: boolean;
}

export const DEFAULT_MAX_ACTIVATION_LAG = 100;

/**
 * Switches queries to `version`, atomically (compare-and-set on the active pointer). Refuses a
 * version that is building or lags by more than `maxLag` events (VERSION_LAGGING) unless
 * forced, so that readers never step back in time.
 */
export const activateReadModelVersion = async (deps: VersionDeps, version: number, options: ActivateOptions = {}): Promise<{ previous: number | null; lag: number }> => {
  const record = await deps.registry.getVersion(version);
  const active = await deps.registry.getActiveVersion();
  const maxLag = options.maxLag ?? DEFAULT_MAX_ACTIVATION_LAG;
  const lag = await eventsBehind(deps.eventStore, await deps.registry.readModels(version).getCheckpoint(), maxLag);
  if (record !== null && options.force !== true && (lag > maxLag || record.state === 'building')) {
    throw new RuleViolatedError('VERSION_LAGGING', `read-model version ${version} is ${record.state} and ${lag > maxLag ? `more than ${maxLag}` : lag} events behind the log (--force to switch anyway)`, {
      version,
      lag,
      maxLag,
    });
  }
  const { previous } = await deps.registry.activateVersion(version, { expectedActive: active });
  return { previous, lag };
};

export interface RebuildOptions extends Pick<CatchUpOptions, 'onProgress' | 'signal' | 'pageSize' | 'segmentSize'> {
  /** The projection code that builds it: this process's READ_MODEL_VERSION. */
  readonly projection: number;
}

/** Events folded per write while a version is building (see CatchUpOptions.segmentSize). */
export const REBUILD_SEGMENT_SIZE = 50_000;

export interface RebuildResult extends CatchUpProgress {
  /** False when an earlier, interrupted rebuild of this version was continued from its checkpoint. */
  readonly fresh: boolean;
  readonly state: ReadModelVersionRecord['state'];
}

/**
 * Builds `version` from the start of the log beside the active one (which keeps serving and
 * being updated), then marks it live: the running projectors of the same projection keep it
 * current from there. Rerunning after a crash continues from the version's checkpoint (and says
 * so in `fresh: false`); a retired version, or one built by other projection code, is refused
 * rather than silently started over: drop it first.
 */
export const rebuildReadModelVersion = async (deps: VersionDeps, version: number, options: RebuildOptions): Promise<RebuildResult> => {
  const { record, created } = await deps.registry.registerVersion(version, options.projection);
  if (record.state === 'retired')
    throw new RuleViolatedError('VERSION_RETIRED', `read-model version ${version} is retired: drop it before building it again`, { version });
  if (record.projection !== options.projection)
    throw new RuleViolatedError('VERSION_OTHER_PROJECTION', `read-model version ${version} belongs to projection ${record.projection}, this code is ${options.projection}`, {
      version,
      projection: record.projection,
    });
  const readModels = deps.registry.readModels(version);
  const resumed = !created && (await readModels.getCheckpoint()) !== null;
  // A building version is read by nobody: large segments fold more of each stream per write.
  const segmentSize = record.state === 'building' ? (options.segmentSize ?? REBUILD_SEGMENT_SIZE) : undefined;
  const progress = await catchUpReadModel(
    { eventStore: deps.eventStore, readModels, ...(deps.prepareBatch === undefined ? {} : { prepareBatch: deps.prepareBatch }) },
    { ...options, ...(segmentSize === undefined ? {} : { segmentSize }) },
  );
  if (options.signal?.aborted === true) return { ...progress, fresh: !resumed, state: record.state };
  if (record.state === 'building') await deps.registry.setVersionState(version, 'live');
  return { ...progress, fresh: !resumed, state: record.state === 'building' ? 'live' : record.state };
};
