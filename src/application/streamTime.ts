import type { EventStore, StoredEvent } from '#ports/eventStore';

/**
 * Where an instant falls in one stream, by "recorded at" (the event store's commit time).
 *
 * A stream's commit times grow with its revisions (each append commits after the one before),
 * so a binary search over single-event reads finds the place in O(log n) reads: nothing here
 * grows with the stream's length. Commit times may repeat (several events of one append share
 * one), which the bounds below handle; a clock that stepped back would only shift the answer
 * to a neighbouring revision, never fail.
 */
const eventAt = async (eventStore: EventStore, streamId: string, revision: bigint): Promise<StoredEvent | undefined> =>
  (await eventStore.readStream(streamId, { fromRevision: revision, maxCount: 1 }))[0];

/** The stream's last event, or undefined for a stream that does not exist. */
export const lastEventOf = async (eventStore: EventStore, streamId: string): Promise<StoredEvent | undefined> =>
  (await eventStore.readStream(streamId, { direction: 'backwards', maxCount: 1 }))[0];

/** The smallest revision in [lo, hi] whose event satisfies `after`, or hi + 1 when none does (`after` is monotonic). */
const firstRevisionWhere = async (
  eventStore: EventStore,
  streamId: string,
  lo: bigint,
  hi: bigint,
  after: (event: StoredEvent) => boolean,
): Promise<bigint> => {
  let [low, high] = [lo, hi + 1n];
  while (low < high) {
    const middle = (low + high) / 2n;
    const event = await eventAt(eventStore, streamId, middle);
    if (event === undefined || after(event)) high = middle;
    else low = middle + 1n;
  }
  return low;
};

/** Revision of the last event recorded at or before `instant`; null when the stream had none then (or has none at all). */
export const lastRevisionAtOrBefore = async (eventStore: EventStore, streamId: string, instant: Date): Promise<bigint | null> => {
  const last = await lastEventOf(eventStore, streamId);
  if (last === undefined) return null;
  if (last.recordedAt.getTime() <= instant.getTime()) return last.revision;
  const firstAfter = await firstRevisionWhere(eventStore, streamId, 0n, last.revision, (event) => event.recordedAt.getTime() > instant.getTime());
  return firstAfter === 0n ? null : firstAfter - 1n;
};

/** Revision of the first event recorded at or after `instant`; null when every event is older (or the stream is empty). */
export const firstRevisionAtOrAfter = async (eventStore: EventStore, streamId: string, instant: Date): Promise<bigint | null> => {
  const last = await lastEventOf(eventStore, streamId);
  if (last === undefined || last.recordedAt.getTime() < instant.getTime()) return null;
  return firstRevisionWhere(eventStore, streamId, 0n, last.revision, (event) => event.recordedAt.getTime() >= instant.getTime());
};
