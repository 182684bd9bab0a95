import { fold } from '#domain/decider';
import type { PersonalDataKey } from '#domain/personalData';
import { decodeUserEvent, isSealed, type DecodedUserEvent } from '#domain/userEventCodec';
import type { UserState } from '#domain/userState';
import { evolveUser, initialUserState } from '#domain/userState';
import { userStreamId } from '#domain/userValues';
import type { EventStore, ExpectedRevision, StoredEvent } from '#ports/eventStore';
import { schemaVersionOf } from '#ports/eventStore';
import type { UserKeys } from './userKeys.ts';
import type { UserSnapshotSettings } from './userSnapshots.ts';

/** What reading a user's stream needs: the log and the users' data keys (and snapshots, where loading uses them). */
export interface UserStreamDeps {
  readonly eventStore: EventStore;
  readonly keys: Pick<UserKeys, 'forReading'>;
  /** Absent: every load folds the stream from its start. */
  readonly snapshots?: UserSnapshotSettings;
}

/** The part of a stream a snapshot stood in for when it was loaded. */
export interface SnapshotBase {
  /** Revision of the snapshot: events up to it are folded into `state` but are not in `stored`. */
  readonly revision: bigint;
  /** Tags of the ids of the last events up to that revision, oldest first (eventTag, #domain/userSnapshot). */
  readonly recentEventTags: readonly string[];
}

/** A user's stream as read: the stored events, the state folded from them, and where it stood. */
export interface LoadedUserStream {
  readonly streamId: string;
  /** The stored events: the whole stream, or those after `snapshot` when it was loaded from one. */
  readonly stored: readonly StoredEvent[];
  /** Each stored event decoded, in order (shredded once the user's key is destroyed). */
  readonly decoded: readonly DecodedUserEvent[];
  readonly state: UserState;
  /** Revision of the last event, or null for a stream that does not exist yet. */
  readonly revision: bigint | null;
  /** Global position of the last event, or null for a stream that does not exist yet. */
  readonly position: bigint | null;
  /** The snapshot `state` started from; null when the whole stream was read. */
  readonly snapshot: SnapshotBase | null;
  /** The user's key, when one exists (null: destroyed, or no event needed one so far). */
  readonly key: PersonalDataKey | null;
}

/** Stored form → current domain event, opened and upcast on the way (every reader goes through the codec). */
export const decodeStoredUserEvent = (stored: StoredEvent, key: PersonalDataKey | null): DecodedUserEvent =>
  decodeUserEvent({ streamId: stored.streamId, type: stored.type, schemaVersion: schemaVersionOf(stored), data: stored.data }, key);

/**
 * The state of a decoded stream. A shredded event means the user's key was destroyed, which
 * happens only after `UserErased` was appended: the user is erased, whatever else the stream says.
 */
export const stateOf = (userId: string, decoded: readonly DecodedUserEvent[]): UserState =>
  decoded.some((d) => d.shredded)
    ? { status: 'erased', userId }
    : fold({ evolve: evolveUser, initialState: initialUserState }, decoded.flatMap((d) => (d.shredded ? [] : [d.event])));

/** The whole stream, read and folded from its start (what export and erasure need: every event, decoded). */
export const loadUserStream = async (deps: UserStreamDeps, userId: string): Promise<LoadedUserStream> =>
  foldWholeStream(deps, userId, await deps.eventStore.readStream(userStreamId(userId)));

/** A stream's events, all of them from revision 0, decoded and folded. */
export const foldWholeStream = async (deps: UserStreamDeps, userId: string, stored: readonly StoredEvent[]): Promise<LoadedUserStream> => {
  const key = stored.some(isSealed) ? ((await deps.keys.forReading([userId])).get(userId) ?? null) : null;
  const decoded = stored.map((event) => decodeStoredUserEvent(event, key));
  const last = stored.at(-1);
  return {
    streamId: userStreamId(userId),
    stored,
    decoded,
    state: stateOf(userId, decoded),
    revision: last?.revision ?? null,
    position: last?.position ?? null,
    snapshot: null,
    key,
  };
};

/** Append with the revision that was read: anything written since makes the append conflict. */
export const expectedRevisionOf = (stream: Pick<LoadedUserStream, 'revision'>): ExpectedRevision => stream.revision ?? 'no_stream';
