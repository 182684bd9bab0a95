import { checkAppend } from '#adapters/shared/checkAppend';
import { UnavailableError, ValidationError } from '#domain/errors';
import type { JsonObject } from '#domain/upcasters';
import type { EventStore, ReadAllOptions, ReadStreamOptions, StoredEvent } from '#ports/eventStore';

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
export interface MemoryEventStoreOptions {
  /** The store's commit clock (each event's recordedAt); tests of temporal queries set it. */
  readonly clock?: () => Date;
}

export const createMemoryEventStore = (options: MemoryEventStoreOptions = {}): EventStore => {
  const clock = options.clock ?? (() => new Date());
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

  return {
    async appendToStream(streamId, events, { expectedRevision }) {
      ensureOpen();
      if (events.length === 0) throw new ValidationError('an append needs at least one event');
      if (new Set(events.map((event) => event.id)).size !== events.length) throw new ValidationError('an append cannot repeat an event id');
      const stream = streams.get(streamId) ?? [];
      const current = stream.length === 0 ? null : BigInt(stream.length - 1);

      const original = checkAppend(streamId, events, expectedRevision, current, (id) => byId.get(id));
      if (original !== null) return original;

      const recordedAt = clock();
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
