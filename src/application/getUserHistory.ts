import { NotFoundError, ValidationError } from '#domain/errors';
import { PERSONAL_FIELDS } from '#domain/personalData';
import type { JsonObject } from '#domain/upcasters';
import { isUserEventType } from '#domain/userEvents';
import { isSealed } from '#domain/userEventCodec';
import { isErased } from '#domain/userState';
import { userStreamId } from '#domain/userValues';
import type { StoredEvent } from '#ports/eventStore';
import { schemaVersionOf } from '#ports/eventStore';
import { firstRevisionAtOrAfter, lastEventOf } from './streamTime.ts';
import { decodeStoredUserEvent, type LoadedUserStream, type UserStreamDeps } from './userStream.ts';

/** One entry of a user's audit trail. */
export interface HistoryItem {
  readonly type: string;
  /** As stored: a v1 event says 1 even though `data` is shown upcast to the current version. */
  readonly schemaVersion: number;
  readonly revision: bigint;
  readonly position: bigint;
  readonly occurredAt: string;
  /** The event store's commit time: what `from`, `to` and `asOf` compare with. */
  readonly recordedAt: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
  /** The user was erased: the personal fields of this entry read as null, for good. */
  readonly erased?: true;
}

const occurredAtOf = (event: StoredEvent): string => {
  const occurredAt = event.metadata['occurredAt'];
  return typeof occurredAt === 'string' ? occurredAt : event.recordedAt.toISOString();
};

/** Personal fields as null: an erased user's events written before encryption are stored in clear, but are never shown. */
const redacted = (type: string, data: JsonObject): JsonObject =>
  isUserEventType(type) ? { ...data, ...Object.fromEntries(PERSONAL_FIELDS[type].map((name) => [name, null])) } : data;

export interface HistoryPage {
  readonly items: HistoryItem[];
  readonly nextCursor: string | null;
}

export const HISTORY_DEFAULT_LIMIT = 100;
export const HISTORY_MAX_LIMIT = 1_000;

export interface HistoryQuery {
  /** 1..HISTORY_MAX_LIMIT, default HISTORY_DEFAULT_LIMIT. */
  readonly limit?: number | undefined;
  /** Opaque, from a previous page's nextCursor. */
  readonly cursor?: string | undefined;
  /** Only events recorded at or after this instant. */
  readonly from?: Date | undefined;
  /** Only events recorded at or before this instant. */
  readonly to?: Date | undefined;
}

interface CursorState {
  /** The next page starts at this revision. */
  readonly revision: bigint;
  /** The `to` bound of the first page, kept so later pages need only the cursor. */
  readonly to: number | null;
}

// Opaque to callers: base64url of a tagged, versioned text, so its form can change without breaking old cursors silently.
const encodeCursor = (cursor: CursorState): string => Buffer.from(`h1:${cursor.revision}:${cursor.to ?? ''}`).toString('base64url');

const decodeCursor = (text: string): CursorState => {
  const match = /^h1:(\d{1,19}):(\d{0,16})$/.exec(Buffer.from(text, 'base64url').toString());
  if (match === null) throw new ValidationError('cursor is not one this API gave out', [{ path: 'cursor', message: 'must be a nextCursor from a previous page' }]);
  return { revision: BigInt(match[1] ?? '0'), to: match[2] === undefined || match[2] === '' ? null : Number(match[2]) };
};

/**
 * One page of the audit trail, oldest first, replayed from the event store (never from a read
 * model), with personal fields opened. A page reads at most limit + 1 events, plus the last
 * event (erased or not) and O(log n) single-event reads to find `from`, so neither the answer
 * nor the work grows with the stream's length. Once the user is erased (`UserErased` is always
 * the stream's last event) every entry says `erased: true` and its personal fields are null.
 */
export const getUserHistory = async (deps: UserStreamDeps, userId: string, query: HistoryQuery = {}): Promise<HistoryPage> => {
  const streamId = userStreamId(userId);
  const limit = query.limit ?? HISTORY_DEFAULT_LIMIT;
  const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
  const to = query.to?.getTime() ?? cursor?.to ?? null;

  // 1. whether the user exists (and is erased), and where the page starts
  const last = await lastEventOf(deps.eventStore, streamId);
  if (last === undefined && cursor === null) throw new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, { userId });
  const start = cursor !== null ? cursor.revision : query.from === undefined ? 0n : await firstRevisionAtOrAfter(deps.eventStore, streamId, query.from);
  if (start === null || last === undefined) return { items: [], nextCursor: null };

  // 2. one read of limit + 1: the extra event tells whether another page follows
  const events = await deps.eventStore.readStream(streamId, { fromRevision: start, maxCount: limit + 1 });
  const inRange = to === null ? events : events.filter((event) => event.recordedAt.getTime() <= to);
  const page = inRange.slice(0, limit);
  const next = inRange.length > limit ? inRange[limit] : undefined;
  const key = page.some(isSealed) ? ((await deps.keys.forReading([userId])).get(userId) ?? null) : null;
  const decoded = page.map((event) => decodeStoredUserEvent(event, key));
  const erased = last.type === 'UserErased' || decoded.some((d) => d.shredded);
  return {
    items: page.map((event, i) => itemOf(event, decoded[i]!, erased)),
    nextCursor: next === undefined ? null : encodeCursor({ revision: next.revision, to }),
  };
};

const itemOf = (event: StoredEvent, decoded: LoadedUserStream['decoded'][number], erased: boolean): HistoryItem => {
  const data = decoded.shredded ? decoded.data : { ...decoded.event.data };
  return {
    type: event.type,
    schemaVersion: schemaVersionOf(event),
    revision: event.revision,
    position: event.position,
    occurredAt: occurredAtOf(event),
    recordedAt: event.recordedAt.toISOString(),
    data: erased ? redacted(event.type, data) : data,
    metadata: event.metadata,
    ...(erased ? { erased: true as const } : {}),
  };
};

/** The whole trail of a loaded stream (the export of a user's data). */
export const historyOf = (stream: LoadedUserStream): HistoryItem[] => {
  const erased = isErased(stream.state);
  return stream.stored.map((event, i) => itemOf(event, stream.decoded[i]!, erased));
};
