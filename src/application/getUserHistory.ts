import { NotFoundError } from '#domain/errors';
import type { JsonObject } from '#domain/upcasters';
import { userStreamId } from '#domain/userValues';
import type { EventStore } from '#ports/eventStore';
import { schemaVersionOf } from '#ports/eventStore';
import { decodeStoredUserEvent } from './userStream.ts';

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
}

/** The audit trail, oldest first, replayed from the event store (never from a read model). */
export const getUserHistory = async (deps: { readonly eventStore: EventStore }, userId: string): Promise<HistoryItem[]> => {
  const stored = await deps.eventStore.readStream(userStreamId(userId));
  if (stored.length === 0) throw new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, { userId });
  return stored.map((event) => {
    const occurredAt = event.metadata['occurredAt'];
    return {
      type: event.type,
      schemaVersion: schemaVersionOf(event),
      revision: event.revision,
      position: event.position,
      occurredAt: typeof occurredAt === 'string' ? occurredAt : event.recordedAt.toISOString(),
      data: { ...decodeStoredUserEvent(event).data },
      metadata: event.metadata,
    };
  });
};
