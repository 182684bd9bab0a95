import { NotFoundError } from '#domain/errors';
import type { PersonalDataKey } from '#domain/personalData';
import { userErasedError } from '#domain/userCommands';
import { isSealed } from '#domain/userEventCodec';
import { evolveUser, initialUserState, isRegistered, type UserState } from '#domain/userState';
import { userStreamId } from '#domain/userValues';
import type { UserView } from '#ports/readModels';
import type { Snapshot } from '#ports/snapshotStore';
import { lastEventOf, lastRevisionAtOrBefore } from './streamTime.ts';
import { openSnapshot, readSnapshot } from './userSnapshots.ts';
import { decodeStoredUserEvent, type UserStreamDeps } from './userStream.ts';

/** A point in a user's past: an instant (by the event store's commit time) or a stream revision. */
export type PointInTime = { readonly asOf: Date } | { readonly atRevision: bigint };

export interface UserAsOf {
  readonly user: UserView;
  /** The instant asked for, or (for a revision) the commit time of the event at that revision. */
  readonly asOf: Date;
}

/** Events folded per read: memory stays bounded however long the stream. */
const FOLD_PAGE_SIZE = 1_000;

interface Folded {
  readonly state: UserState;
  readonly revision: bigint;
  readonly position: bigint;
  readonly recordedAt: Date;
}

/** Where a fold starts: the stream's start, or a trusted snapshot at or before the revision asked for. */
interface FoldStart {
  readonly state: UserState;
  readonly from: bigint;
  readonly folded: Folded | null;
  readonly key: PersonalDataKey | null | undefined;
}

const FROM_THE_START: FoldStart = { state: initialUserState(), from: 0n, folded: null, key: undefined };

/**
 * The user's snapshot when it can stand in for the events up to `upTo`: taken at or before it
 * (a later one knows too much), of this format, sealed with the user's key, and naming the
 * event the stream holds at its revision. Anything else: fold from the start.
 */
const startFor = async (deps: UserStreamDeps, userId: string, snapshot: Snapshot | null, upTo: bigint): Promise<FoldStart> => {
  if (snapshot === null || snapshot.revision > upTo) return FROM_THE_START;
  const [atRevision] = await deps.eventStore.readStream(snapshot.streamId, { fromRevision: snapshot.revision, maxCount: 1 });
  const opened = await openSnapshot(deps, userId, snapshot, atRevision);
  if (opened === null || atRevision === undefined) return FROM_THE_START;
  const { state } = opened.content;
  return {
    state,
    from: snapshot.revision + 1n,
    folded: { state, revision: snapshot.revision, position: snapshot.position, recordedAt: atRevision.recordedAt },
    key: opened.key,
  };
};

/** The stream folded from `start` up to and including `upTo`; null when the stream does not reach it. */
const foldUpTo = async (deps: UserStreamDeps, userId: string, upTo: bigint, start: FoldStart): Promise<Folded | null> => {
  const streamId = userStreamId(userId);
  let { folded, state } = start;
  // The user's key, fetched once, when the first sealed event is met (already known from a snapshot).
  let { key } = start;
  for (let from = start.from; from <= upTo; ) {
    const remaining = upTo - from + 1n;
    const page = await deps.eventStore.readStream(streamId, { fromRevision: from, maxCount: remaining < FOLD_PAGE_SIZE ? Number(remaining) : FOLD_PAGE_SIZE });
    for (const stored of page) {
      if (key === undefined && isSealed(stored)) key = (await deps.keys.forReading([userId])).get(userId) ?? null;
      const decoded = decodeStoredUserEvent(stored, key ?? null);
      // A destroyed key means the user was erased: nothing of its past is shown any more.
      if (decoded.shredded) throw userErasedError(userId);
      state = evolveUser(state, decoded.event);
      folded = { state, revision: stored.revision, position: stored.position, recordedAt: stored.recordedAt };
    }
    if (page.length === 0) break;
    from = (page.at(-1)?.revision ?? upTo) + 1n;
  }
  return folded !== null && folded.revision === upTo ? folded : null;
};

/** The read models' picture of a folded user (null while unregistered). */
export const viewOfState = (state: UserState, revision: bigint, position: bigint): UserView | null =>
  viewOf({ state, revision, position, recordedAt: new Date(0) });

const viewOf = (folded: Folded): UserView | null =>
  isRegistered(folded.state)
    ? {
        id: folded.state.userId,
        email: folded.state.email,
        displayName: folded.state.displayName,
        status: folded.state.status,
        emailVerified: folded.state.emailVerified,
        registeredAt: folded.state.registeredAt,
        revision: folded.revision,
        position: folded.position,
      }
    : null;

/**
 * The user as it was at a point in the past, folded from the event store (never a read model):
 * the stream up to the last event recorded at or before the instant, or up to the revision.
 * USER_NOT_FOUND when the user did not exist then; REVISION_NOT_FOUND for a revision the
 * stream has not reached; USER_ERASED (410) at any point for an erased user: its personal data
 * is gone for good, past included (`UserErased` is always a stream's last event).
 */
export const getUserAsOf = async (deps: UserStreamDeps, userId: string, point: PointInTime): Promise<UserAsOf> => {
  const streamId = userStreamId(userId);
  const notFound = () => new NotFoundError('USER_NOT_FOUND', `user ${userId} did not exist then`, { userId });
  const last = await lastEventOf(deps.eventStore, streamId);
  if (last?.type === 'UserErased') throw userErasedError(userId);
  const upTo = 'atRevision' in point ? point.atRevision : await lastRevisionAtOrBefore(deps.eventStore, streamId, point.asOf);
  if (upTo === null) throw notFound();
  // No snapshot sits below revision `every` (none is written sooner): a short fold asks for none.
  const snapshots = deps.snapshots;
  const snapshot = snapshots !== undefined && snapshots.every > 0 && upTo >= BigInt(snapshots.every) ? await readSnapshot(snapshots, streamId) : null;
  const folded = await foldUpTo(deps, userId, upTo, await startFor(deps, userId, snapshot, upTo));
  if (folded === null) {
    if ('asOf' in point || last === undefined) throw notFound();
    throw new NotFoundError('REVISION_NOT_FOUND', `user ${userId} has no revision ${upTo}`, { userId, revision: upTo.toString() });
  }
  const user = viewOf(folded);
  if (user === null) throw notFound();
  return { user, asOf: 'asOf' in point ? point.asOf : folded.recordedAt };
};
