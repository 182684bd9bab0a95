import { NotFoundError } from '#domain/errors';
import { PERSONAL_FIELDS } from '#domain/personalData';
import type { JsonObject } from '#domain/upcasters';
import { isUserEventType } from '#domain/userEvents';
import { isErased } from '#domain/userState';
import type { StoredEvent } from '#ports/eventStore';
import { schemaVersionOf } from '#ports/eventStore';
import { loadUserStream, type LoadedUserStream, type UserStreamDeps } from './userStream.ts';

/** One entry of a user's audit trail. */
export interface HistoryItem {
  readonly type: string;
  /** As stored: a v1 event says 1 even though `data` is shown upcast to the current version. */
  readonly schemaVersion: number;
  readonly revision: bigint;
  readonly position: bigint;
  readonly occurredAt: string;
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

/**
 * The audit trail, oldest first, replayed from the event store (never from a read model), with
 * personal fields opened. Once the user is erased every entry says `erased: true` and its
 * personal fields are null.
 */
export const getUserHistory = async (deps: UserStreamDeps, userId: string): Promise<HistoryItem[]> => {
  const stream = await loadUserStream(deps, userId);
  if (stream.stored.length === 0) throw new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, { userId });
  return historyOf(stream);
};

export const historyOf = (stream: LoadedUserStream): HistoryItem[] => {
  const erased = isErased(stream.state);
  return stream.stored.map((event, i) => {
    const decoded = stream.decoded[i]!;
    const data = decoded.shredded ? decoded.data : { ...decoded.event.data };
    return {
      type: event.type,
      schemaVersion: schemaVersionOf(event),
      revision: event.revision,
      position: event.position,
      occurredAt: occurredAtOf(event),
      data: erased ? redacted(event.type, data) : data,
      metadata: event.metadata,
      ...(erased ? { erased: true as const } : {}),
    };
  });
};
