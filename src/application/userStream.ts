import { fold } from '#domain/decider';
import { decodeUserEvent } from '#domain/userEventCodec';
import type { UserEvent } from '#domain/userEvents';
import type { UserState } from '#domain/userState';
import { evolveUser, initialUserState } from '#domain/userState';
import { userStreamId } from '#domain/userValues';
import type { EventStore, ExpectedRevision, StoredEvent } from '#ports/eventStore';
import { schemaVersionOf } from '#ports/eventStore';

/** A user's stream as read: the stored events, the state folded from them, and where it stood. */
export interface LoadedUserStream {
  readonly streamId: string;
  readonly stored: readonly StoredEvent[];
  readonly state: UserState;
  /** Revision of the last event, or null for a stream that does not exist yet. */
  readonly revision: bigint | null;
}

/** Stored form → current domain event, upcast on the way (every reader goes through the codec). */
export const decodeStoredUserEvent = (stored: StoredEvent): UserEvent =>
  decodeUserEvent({ type: stored.type, schemaVersion: schemaVersionOf(stored), data: stored.data });

export const loadUserStream = async (eventStore: EventStore, userId: string): Promise<LoadedUserStream> => {
  const streamId = userStreamId(userId);
  const stored = await eventStore.readStream(streamId);
  const state = fold({ evolve: evolveUser, initialState: initialUserState }, stored.map(decodeStoredUserEvent));
  return { streamId, stored, state, revision: stored.at(-1)?.revision ?? null };
};

/** Append with the revision that was read: anything written since makes the append conflict. */
export const expectedRevisionOf = (stream: Pick<LoadedUserStream, 'revision'>): ExpectedRevision => stream.revision ?? 'no_stream';
