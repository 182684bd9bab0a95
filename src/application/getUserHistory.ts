import { NotFoundError, ValidationError } from '#domain/errors';
import type { JsonObject } from '#domain/upcasters';
import { userStreamId } from '#domain/userValues';
import type { EventStore, StoredEvent } from '#ports/eventStore';
import { schemaVersionOf } from '#ports/eventStore';
import { firstRevisionAtOrAfter, lastEventOf } from './streamTime.ts';
import { decodeStoredUserEvent } from './userStream.ts';

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
}

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

const historyItemOf = (event: StoredEvent): HistoryItem => {
  const occurredAt = event.metadata['occurredAt'];
  return {
    type: event.type,
    schemaVersion: schemaVersionOf(event),
    revision: event.revision,
    position: event.position,
    occurredAt: typeof occurredAt === 'string' ? occurredAt : event.recordedAt.toISOString(),
    recordedAt: event.recordedAt.toISOString(),
    data: { ...decodeStoredUserEvent(event).data },
    metadata: event.metadata,
  };
};

/**
 * One page of the audit trail, oldest first, replayed from the event store (never from a read
 * model). A page reads at most limit + 1 events (plus O(log n) single-event reads to find
 * `from`), so neither the answer nor the work grows with the stream's length.
 */
export const getUserHistory = async (deps: { readonly eventStore: EventStore }, userId: string, query: HistoryQuery = {}): Promise<HistoryPage> => {
  const streamId = userStreamId(userId);
  const limit = query.limit ?? HISTORY_DEFAULT_LIMIT;
  const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
  const to = query.to?.getTime() ?? cursor?.to ?? null;

  // 1. where the page starts: the cursor's revision, or the first event at or after `from`
  let start: bigint | null;
  if (cursor !== null) start = cursor.revision;
  else {
    if ((await lastEventOf(deps.eventStore, streamId)) === undefined) throw new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, { userId });
    start = query.from === undefined ? 0n : await firstRevisionAtOrAfter(deps.eventStore, streamId, query.from);
  }
  if (start === null) return { items: [], nextCursor: null };

  // 2. one read of limit + 1: the extra event tells whether another page follows
  const events = await deps.eventStore.readStream(streamId, { fromRevision: start, maxCount: limit + 1 });
  const inRange = to === null ? events : events.filter((event) => event.recordedAt.getTime() <= to);
  const next = inRange.length > limit ? inRange[limit] : undefined;
  return {
    items: inRange.slice(0, limit).map(historyItemOf),
    nextCursor: next === undefined ? null : encodeCursor({ revision: next.revision, to }),
  };
};
