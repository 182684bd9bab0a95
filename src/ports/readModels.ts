import type { UserStatus } from '#domain/userState';

/** The query side's picture of a user. */
export interface UserView {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly status: UserStatus;
  readonly emailVerified: boolean;
  readonly registeredAt: string;
  /** Revision of the user's stream that this view includes (its ETag). */
  readonly revision: bigint;
  /** Global position of the last event applied to this view (read-your-writes per user). */
  readonly position: bigint;
}

/**
 * What a projection asks of the read models. Adapters keep every index (status sets, the email
 * index, the registration order, counts) consistent with these, atomically.
 */
export type ReadModelChange =
  | { readonly type: 'userCreated'; readonly user: Omit<UserView, 'revision' | 'position'> }
  | {
      readonly type: 'userPatched';
      readonly userId: string;
      readonly fields: Partial<Pick<UserView, 'email' | 'displayName' | 'status' | 'emailVerified'>>;
    }
  /**
   * The user was erased: gone from every read model (its record, status sets, registration
   * order, email index); only its id is kept, in a set of erased ids, so queries can answer 410.
   */
  | { readonly type: 'userErased'; readonly userId: string };

/**
 * One event's effect, tagged with where it sits in its stream and in the log. A rebuild may fold
 * several consecutive events of one stream into one: `firstRevision` is then the first of them
 * (it applies only when the stream's applied revision is `firstRevision - 1`), `revision` and
 * `position` the last's.
 */
export interface ProjectedEvent {
  readonly streamId: string;
  /** Default: `revision` (one event). */
  readonly firstRevision?: bigint;
  readonly revision: bigint;
  readonly position: bigint;
  readonly changes: readonly ReadModelChange[];
}

/**
 * applied: it was the next revision of its stream, its changes are written.
 * duplicate: at or below the stream's applied revision, nothing written (ack it).
 * (A folded event that starts at or below the applied revision and ends past it is a gap.)
 * gap: a predecessor is missing, nothing written (retry it later).
 */
export type ApplyOutcome = 'applied' | 'duplicate' | 'gap';

/**
 * A stream with a parked event: its later events are held (acknowledged without being applied;
 * the log keeps them) until the parked one is replayed and applied, then applied in order from
 * the log. Reads of its user say they are stale meanwhile.
 */
export interface HeldStream {
  readonly streamId: string;
  /** The parked event's revision: the stream is applied up to the one before. */
  readonly revision: bigint;
  readonly reason: string;
  readonly heldAt: string;
}

export interface ReadModelWriter {
  /**
   * ONE atomic write: every applicable event's changes, each stream's applied revision, and the
   * checkpoint (kept as the maximum of the stored and the given one). A failure writes nothing.
   * Events of one stream may appear several times and in any order within a batch.
   * Answers one outcome per event, in input order.
   */
  applyBatch(events: readonly ProjectedEvent[], checkpoint: bigint | null): Promise<ApplyOutcome[]>;
  /** Marks a stream held at `revision` (its parked event); holding it again keeps the first mark. */
  holdStream(streamId: string, revision: bigint, reason: string): Promise<void>;
  releaseStream(streamId: string): Promise<void>;
}

export interface UserPage {
  readonly items: UserView[];
  readonly nextCursor: string | null;
}

export interface ListUsersQuery {
  readonly status?: UserStatus;
  /** Opaque, from a previous page's nextCursor. */
  readonly cursor?: string | null;
  readonly limit: number;
}

export interface ReadModelReader {
  getUser(userId: string): Promise<UserView | null>;
  /** Oldest registration first; stable under concurrent writes (a cursor never repeats an item). */
  listUsers(query: ListUsersQuery): Promise<UserPage>;
  countUsers(status: UserStatus): Promise<number>;
  findUserIdByEmail(email: string): Promise<string | null>;
  /** Whether the user was erased (then getUser answers null, and always will). */
  isUserErased(userId: string): Promise<boolean>;
  /** Revision of `streamId` applied so far, or null when none of it is. */
  getAppliedRevision(streamId: string): Promise<bigint | null>;
  /** Every event at or below this position has been applied; null before the first batch. */
  getCheckpoint(): Promise<bigint | null>;
  getHeldStream(streamId: string): Promise<HeldStream | null>;
  /** Held streams, oldest hold first, at most `limit`. */
  listHeldStreams(limit: number): Promise<HeldStream[]>;
}

export interface ReadModels extends ReadModelReader, ReadModelWriter {
  close(): Promise<void>;
}

/**
 * Blue/green read models. Every version lives beside the others in the read store (its own key
 * prefix or tables); the registry says what each one is and which one queries read.
 *
 * building: being filled from the log, not to be read. live: caught up and kept current.
 * retired: replaced by a newer active version; no longer kept current; can be dropped.
 */
export type ReadModelVersionState = 'building' | 'live' | 'retired';

export interface ReadModelVersionRecord {
  readonly version: number;
  readonly state: ReadModelVersionState;
  /**
   * The READ_MODEL_VERSION of the projection code that builds and keeps this version: a
   * projector keeps current only the versions of its own projection, so old and new code
   * overlapping in a rolling deploy never write each other's versions.
   */
  readonly projection: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ReadModelRegistry {
  /** Every registered version, lowest first. */
  listVersions(): Promise<ReadModelVersionRecord[]>;
  getVersion(version: number): Promise<ReadModelVersionRecord | null>;
  /** The version queries read; null before any was activated. */
  getActiveVersion(): Promise<number | null>;
  /**
   * Adds `version` in state `building` unless it is registered already (atomic: of several
   * projectors starting at once, exactly one creates it). Answers the record as stored.
   */
  registerVersion(version: number, projection: number): Promise<{ readonly record: ReadModelVersionRecord; readonly created: boolean }>;
  /** Moves a registered version to `state`; VERSION_NOT_FOUND when it is not registered. */
  setVersionState(version: number, state: Exclude<ReadModelVersionState, 'retired'>): Promise<void>;
  /**
   * Atomically: `version` becomes the active one (state live) and the one active before it
   * retired. With `expectedActive` it refuses (ACTIVE_VERSION_CHANGED) when the active version
   * is no longer that one: two projectors racing to switch cannot undo each other.
   * VERSION_NOT_FOUND for an unregistered version. Answers the version active before.
   */
  activateVersion(version: number, options?: { readonly expectedActive?: number | null }): Promise<{ readonly previous: number | null }>;
  /**
   * Deletes one version's read models and its record, `batchSize` keys or rows at a time,
   * reporting progress; refuses the active version (VERSION_ACTIVE). Resumable: running it
   * again after a crash deletes what is left.
   */
  dropVersion(version: number, options?: { readonly batchSize?: number; readonly onProgress?: (deleted: number) => void }): Promise<number>;
  /** One version's read models on the same store (opened once, closed with the registry). */
  readModels(version: number): ReadModels;
  close(): Promise<void>;
}
