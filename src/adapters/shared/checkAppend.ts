import { ConcurrencyError } from '#domain/errors';
import type { AppendResult, ExpectedRevision, NewEvent } from '#ports/eventStore';

/** Where an event id is stored already. */
export interface StoredPlace {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
}

/** How ConcurrencyError spells revisions: the keyword, or the decimal revision. */
const revisionLabel = (revision: ExpectedRevision): string => (typeof revision === 'bigint' ? revision.toString() : revision);

const conflict = (streamId: string, expected: ExpectedRevision, current: bigint | null): ConcurrencyError =>
  new ConcurrencyError(streamId, revisionLabel(expected), revisionLabel(current ?? 'no_stream'));

const expectationMet = (expected: ExpectedRevision, current: bigint | null): boolean =>
  expected === 'any' ||
  (expected === 'no_stream' && current === null) ||
  (expected === 'stream_exists' && current !== null) ||
  (typeof expected === 'bigint' && expected === current);

/**
 * The append rules of the embedded stores (memory, SQLite), in one place so that both keep
 * EventStoreDB's: ids already stored, in order, in this stream are a retried append and answer
 * the original result; a partial overlap or a wrong expected revision is a ConcurrencyError;
 * null means the append may go ahead. `current` is the stream's revision (null: no stream).
 */
export const checkAppend = (
  streamId: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
  current: bigint | null,
  storedPlaceOf: (eventId: string) => StoredPlace | undefined,
): AppendResult | null => {
  const found = events.map((event) => storedPlaceOf(event.id));
  if (found.some((place) => place !== undefined)) {
    const first = found[0];
    const last = found[found.length - 1];
    const consecutive =
      first !== undefined && found.every((place, index) => place !== undefined && place.streamId === streamId && place.revision === first.revision + BigInt(index));
    if (!consecutive || last === undefined) throw conflict(streamId, expected, current);
    return { nextRevision: last.revision, position: last.position };
  }
  if (!expectationMet(expected, current)) throw conflict(streamId, expected, current);
  return null;
};
