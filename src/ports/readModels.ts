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

/** One event's effect, tagged with where it sits in its stream and in the log. */
export interface ProjectedEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly changes: readonly ReadModelChange[];
}

/**
 * applied: it was the next revision of its stream, its changes are written.
 * duplicate: at or below the stream's applied revision, nothing written (ack it).
 * gap: a predecessor is missing, nothing written (retry it later).
 */
export type ApplyOutcome = 'applied' | 'duplicate' | 'gap';

export interface ReadModelWriter {
  /**
   * ONE atomic write: every applicable event's changes, each stream's applied revision, and the
   * checkpoint (kept as the maximum of the stored and the given one). A failure writes nothing.
   * Events of one stream may appear several times and in any order within a batch.
   * Answers one outcome per event, in input order.
   */
  applyBatch(events: readonly ProjectedEvent[], checkpoint: bigint | null): Promise<ApplyOutcome[]>;
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
}

export interface ReadModels extends ReadModelReader, ReadModelWriter {
  close(): Promise<void>;
}
