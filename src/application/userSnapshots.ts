import type { PersonalDataKey } from '#domain/personalData';
import { eventTag, openUserSnapshot, sealUserSnapshot, USER_SNAPSHOT_FORMAT, type UserSnapshotContent } from '#domain/userSnapshot';
import { evolveUser, isRegistered, type UserState } from '#domain/userState';
import type { UserEvent } from '#domain/userEvents';
import { userStreamId } from '#domain/userValues';
import type { Snapshot, SnapshotStore } from '#ports/snapshotStore';
import type { AppendResult, StoredEvent } from '#ports/eventStore';
import { decodeStoredUserEvent, foldWholeStream, stateOf, type LoadedUserStream, type UserStreamDeps } from './userStream.ts';

/**
 * Snapshots of user streams: a cache in front of the fold, never the source of truth. Whatever
 * goes wrong with one (missing, unreadable, of another format, sealed with a destroyed key, or
 * naming an event the stream does not hold at its revision) makes the reader fold the stream
 * from its start, and a later command writes a fresh one.
 */
export interface UserSnapshotSettings {
  readonly store: SnapshotStore;
  /** A snapshot is written once a command leaves the stream this many events past its last snapshot (or its start). */
  readonly every: number;
  /** Told when reading or writing a snapshot failed; the load falls back to a full fold, the command's outcome stands. */
  readonly onFailure?: (error: unknown, context: { readonly streamId: string; readonly step: 'read' | 'write' }) => void;
}

/**
 * How many event ids (as tags) up to its revision a snapshot keeps. A retried command is recognised
 * by its first event's id, so a retry is answered with its first result while its events are
 * among the stream's last RECENT_EVENT_IDS events before the snapshot or after it (always, on a
 * stream shorter than the snapshot interval); a retry older than that is decided again.
 */
export const RECENT_EVENT_IDS = 1_000;

/** The stream's snapshot, or null (none, or the store failed: a cache miss either way). */
export const readSnapshot = async (settings: UserSnapshotSettings, streamId: string): Promise<Snapshot | null> => {
  try {
    const snapshot = await settings.store.read(streamId);
    return snapshot !== null && snapshot.format === USER_SNAPSHOT_FORMAT ? snapshot : null;
  } catch (error) {
    settings.onFailure?.(error, { streamId, step: 'read' });
    return null;
  }
};

/** A snapshot opened and checked against the stream: the state it holds and the user's key. */
export interface OpenedSnapshot {
  readonly snapshot: Snapshot;
  readonly content: UserSnapshotContent;
  readonly key: PersonalDataKey;
}

/**
 * Trusts a snapshot only when the stream still holds the event it names at its revision (so it
 * belongs to this stream's history) and it opens with the user's key (a destroyed key: erased).
 */
export const openSnapshot = async (deps: UserStreamDeps, userId: string, snapshot: Snapshot, eventAtRevision: StoredEvent | undefined): Promise<OpenedSnapshot | null> => {
  if (eventAtRevision === undefined || eventAtRevision.revision !== snapshot.revision || eventAtRevision.id !== snapshot.eventId) return null;
  const key = (await deps.keys.forReading([userId])).get(userId) ?? null;
  if (key === null) return null;
  const content = openUserSnapshot(snapshot.payload, key, snapshot);
  return content === null || content.state.userId !== userId ? null : { snapshot, content, key };
};

/**
 * The user's stream for a command: the snapshot's state plus the events after it when the
 * stream is long and its snapshot can be trusted, else the whole stream folded. The stream's
 * last `every` events are read first (backwards): a shorter answer is the whole stream, so a
 * stream shorter than the interval (the common case) costs one read as before and no snapshot
 * read at all; on a long stream they usually hold every event after the snapshot, because one
 * is written every `every` events.
 */
export const loadUserStreamForCommand = async (deps: UserStreamDeps, userId: string): Promise<LoadedUserStream> => {
  const settings = deps.snapshots;
  const streamId = userStreamId(userId);
  if (settings === undefined || settings.every <= 0) return foldWholeStream(deps, userId, await deps.eventStore.readStream(streamId));
  const last = (await deps.eventStore.readStream(streamId, { direction: 'backwards', maxCount: settings.every })).reverse();
  const first = last[0]?.revision ?? 0n;
  if (last.length < settings.every || first === 0n) return foldWholeStream(deps, userId, last);
  const snapshot = await readSnapshot(settings, streamId);
  if (snapshot !== null) {
    // From the event at the snapshot's revision on: in hand when the snapshot is recent, else read.
    const [atRevision, ...after] =
      snapshot.revision >= first ? last.slice(Number(snapshot.revision - first)) : await deps.eventStore.readStream(streamId, { fromRevision: snapshot.revision });
    const opened = await openSnapshot(deps, userId, snapshot, atRevision);
    if (opened !== null) return resumeFrom(userId, opened, after);
  }
  // Events are immutable: the ones before the page, read now, complete it however the stream has grown since.
  const earlier = await deps.eventStore.readStream(streamId, { maxCount: Number(first) });
  return foldWholeStream(deps, userId, [...earlier, ...last]);
};

const resumeFrom = (userId: string, opened: OpenedSnapshot, after: readonly StoredEvent[]): LoadedUserStream => {
  const { snapshot, content, key } = opened;
  const decoded = after.map((event) => decodeStoredUserEvent(event, key));
  // A shredded event means the key is gone (erased: stateOf says so); otherwise fold on from the snapshot's state.
  const state = decoded.some((d) => d.shredded)
    ? stateOf(userId, decoded)
    : decoded.reduce<UserState>((folded, d) => (d.shredded ? folded : evolveUser(folded, d.event)), content.state);
  const last = after.at(-1);
  return {
    streamId: snapshot.streamId,
    stored: after,
    decoded,
    state,
    revision: last?.revision ?? snapshot.revision,
    position: last?.position ?? snapshot.position,
    snapshot: { revision: snapshot.revision, recentEventTags: content.recentEventTags },
    key,
  };
};

/** Whether the event with this id is among those the stream's snapshot stands in for (so not in `stored`). */
export const snapshotCovers = (stream: LoadedUserStream, eventId: string): boolean => stream.snapshot?.recentEventTags.includes(eventTag(eventId)) ?? false;

/**
 * After a command appended `events` (with these ids) to a loaded stream: writes a snapshot of
 * the new state when the stream has grown `every` events past the snapshot it was loaded from. Best effort: a
 * failure is reported and swallowed, because the append, which is the command, has happened.
 * Only registered users with a data key are snapshotted (the content is sealed with it).
 */
export const snapshotAfterAppend = async (
  deps: UserStreamDeps,
  stream: LoadedUserStream,
  appended: { readonly events: readonly UserEvent[]; readonly ids: readonly string[]; readonly result: AppendResult; readonly key: PersonalDataKey | null },
): Promise<void> => {
  const settings = deps.snapshots;
  if (settings === undefined || settings.every <= 0) return;
  const { result, key } = appended;
  const lastEventId = appended.ids.at(-1);
  // Measured from the snapshot the load used, else from the stream's start: a stream of `every`
  // events or fewer is read whole anyway, and one whose snapshot could not be used gets a new one.
  if (key === null || lastEventId === undefined || result.nextRevision - (stream.snapshot?.revision ?? 0n) < BigInt(settings.every)) return;
  try {
    const state = appended.events.reduce(evolveUser, stream.state);
    if (!isRegistered(state)) return;
    const tags = [...(stream.snapshot?.recentEventTags ?? []), ...[...stream.stored.slice(-RECENT_EVENT_IDS).map((event) => event.id), ...appended.ids].map(eventTag)];
    const place = { streamId: stream.streamId, revision: result.nextRevision, eventId: lastEventId, format: USER_SNAPSHOT_FORMAT };
    const payload = sealUserSnapshot({ state, recentEventTags: tags.slice(-RECENT_EVENT_IDS) }, key, place);
    await settings.store.write({ ...place, position: result.position, payload });
  } catch (error) {
    settings.onFailure?.(error, { streamId: stream.streamId, step: 'write' });
  }
};
