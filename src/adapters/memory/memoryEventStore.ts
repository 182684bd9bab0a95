import { ConcurrencyError, UnavailableError, ValidationError } from '#domain/errors';
import type { JsonObject } from '#domain/upcasters';
import type { AppendResult, EventStore, ExpectedRevision, NewEvent, ReadAllOptions, ReadStreamOptions, StoredEvent } from '#ports/eventStore';

/** How ConcurrencyError spells revisions: the keyword, or the decimal revision. */
const revisionLabel = (revision: ExpectedRevision): string => (typeof revision === 'bigint' ? revision.toString() : revision);

const limitOf = (maxCount: number | undefined): number => {
  if (maxCount === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(maxCount) || maxCount < 0) throw new ValidationError(`maxCount must be a whole number >= 0, got ${maxCount}`);
  return maxCount;
};

const matchesStreamPrefixes = (streamId: string, prefixes: readonly string[] | undefined): boolean =>
  prefixes === undefined || prefixes.some((prefix) => streamId.startsWith(prefix));

/** Data and metadata are kept as JSON text, as the real stores keep them, so they round-trip the same way. */
interface StoredRecord extends Omit<StoredEvent, 'data' | 'metadata'> {
  readonly data: string;
  readonly metadata: string;
}

/**
 * The event log in memory: the unit-test twin of the SQLite and EventStoreDB adapters, with the
 * same semantics (the event-store contract suite proves it). Positions start at 1 and grow by 1.
 */
export const createMemoryEventStore = (): EventStore => {
  const log: StoredRecord[] = [];
  const streams = new Map<string, StoredRecord[]>();
  const byId = new Map<string, StoredRecord>();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new UnavailableError('the memory event store is closed');
  };

  const toStoredEvent = (record: StoredRecord): StoredEvent => ({
    ...record,
    data: JSON.parse(record.data) as JsonObject,
    metadata: JSON.parse(record.metadata) as JsonObject,
    recordedAt: new Date(record.recordedAt.getTime()),
  });

  /** The original result when every id is already stored, in order, in this stream; null when none is. */
  const idempotentResult = (streamId: string, events: readonly NewEvent[], expected: ExpectedRevision, current: bigint | null): AppendResult | null => {
    const found = events.map((event) => byId.get(event.id));
    if (found.every((stored) => stored === undefined)) return null;
    const first = found[0];
    const consecutive =
      first !== undefined &&
      found.every((stored, index) => stored !== undefined && stored.streamId === streamId && stored.revision === first.revision + BigInt(index));
    const last = found[found.length - 1];
    if (!consecutive || last === undefined) throw new ConcurrencyError(streamId, revisionLabel(expected), revisionLabel(current ?? 'no_stream'));
    return { nextRevision: last.revision, position: last.position };
  };

  return {
    async appendToStream(streamId, events, { expectedRevision }) {
      ensureOpen();
      if (events.length === 0) throw new ValidationError('an append needs at least one event');
      if (new Set(events.map((event) => event.id)).size !== events.length) throw new ValidationError('an append cannot repeat an event id');
      const stream = streams.get(streamId) ?? [];
      const current = stream.length === 0 ? null : BigInt(stream.length - 1);

      const original = idempotentResult(streamId, events, expectedRevision, current);
      if (original !== null) return original;

      const matches =
        expectedRevision === 'any' ||
        (expectedRevision === 'no_stream' && current === null) ||
        (expectedRevision === 'stream_exists' && current !== null) ||
        (typeof expectedRevision === 'bigint' && expectedRevision === current);
      if (!matches) throw new ConcurrencyError(streamId, revisionLabel(expectedRevision), revisionLabel(current ?? 'no_stream'));

      const recordedAt = new Date();
      for (const event of events) {
        const stored: StoredRecord = {
          id: event.id,
          streamId,
          type: event.type,
          revision: BigInt(stream.length),
          position: BigInt(log.length + 1),
          data: JSON.stringify(event.data),
          metadata: JSON.stringify(event.metadata),
          recordedAt,
        };
        stream.push(stored);
        log.push(stored);
        byId.set(stored.id, stored);
      }
      streams.set(streamId, stream);
      return { nextRevision: BigInt(stream.length - 1), position: BigInt(log.length) };
    },

    async readStream(streamId, options: ReadStreamOptions = {}) {
      ensureOpen();
      const stream = streams.get(streamId) ?? [];
      const maxCount = limitOf(options.maxCount);
      const result: StoredEvent[] = [];
      if (options.direction === 'backwards') {
        const last = BigInt(stream.length - 1);
        const from = options.fromRevision === undefined || options.fromRevision > last ? last : options.fromRevision;
        for (let index = Number(from); index >= 0 && result.length < maxCount; index--) result.push(toStoredEvent(stream[index] as StoredRecord));
      } else {
        const from = options.fromRevision ?? 0n;
        if (from < BigInt(stream.length))
          for (let index = Number(from < 0n ? 0n : from); index < stream.length && result.length < maxCount; index++) result.push(toStoredEvent(stream[index] as StoredRecord));
      }
      return result;
    },

    async readAll(options: ReadAllOptions = {}) {
      ensureOpen();
      const maxCount = limitOf(options.maxCount);
      const from = options.fromPosition ?? 1n;
      const result: StoredEvent[] = [];
      // position p lives at index p - 1
      for (let index = from < 1n ? 0 : Number(from - 1n); index < log.length && result.length < maxCount; index++) {
        const record = log[index] as StoredRecord;
        if (matchesStreamPrefixes(record.streamId, options.streamPrefixes)) result.push(toStoredEvent(record));
      }
      return result;
    },

    async headPosition() {
      ensureOpen();
      return log.length === 0 ? null : BigInt(log.length);
    },

    async close() {
      closed = true;
    },
  };
};
