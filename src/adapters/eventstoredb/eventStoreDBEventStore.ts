import {
  BACKWARDS,
  END,
  FORWARDS,
  START,
  StreamNotFoundError,
  UnknownError,
  WrongExpectedVersionError,
  type AppendExpectedRevision,
  type EventStoreDBClient,
  type JSONEventData,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import type { BackoffPolicy } from '#application/retryWithBackoff';
import { ConcurrencyError, ValidationError } from '#domain/errors';
import type { AppendResult, EventStore, ExpectedRevision, NewEvent, ReadAllOptions, ReadStreamOptions, StoredEvent } from '#ports/eventStore';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, DEFAULT_RETRY_POLICY, callWithRetry, type EsdbCallPolicy, type RetryListener } from './esdbRetry.ts';
import { isSystemRecord, toBigInt, toStoredEvent, type Int64Like } from './recordedEvent.ts';
import { collect } from './streamingRead.ts';

export interface EventStoreDBEventStoreOptions {
  readonly retry?: BackoffPolicy;
  /** Longest one attempt may wait for an answer before it is retried. */
  readonly attemptTimeoutMs?: number;
  readonly onRetry?: RetryListener;
  /** Events fetched per request while scanning `$all`. */
  readonly readAllPageSize?: number;
}

const DEFAULT_READ_ALL_PAGE_SIZE = 1_000;
/**
 * How headPosition looks back past system records for the newest Chronicle event: a node writes
 * `$statsCollected` every 30 s, so an idle day adds thousands of them after the last event.
 */
const HEAD_SCAN_PAGE_SIZE = 256;
const HEAD_SCAN_LIMIT = 4_096;

const formatExpected = (expected: ExpectedRevision): string => (typeof expected === 'bigint' ? expected.toString(10) : expected);

const formatActual = (actual: Int64Like | 'no_stream'): string => {
  if (actual === 'no_stream') return 'no_stream';
  const revision = toBigInt(actual);
  return revision < 0n ? 'no_stream' : revision.toString(10);
};

const toJsonEventData = (event: NewEvent): JSONEventData => ({
  id: event.id,
  contentType: 'application/json',
  type: event.type,
  data: event.data,
  metadata: event.metadata,
});

const positionAt = (position: bigint): Position => ({ commit: position, prepare: position });

/**
 * The production event store. Every request retries transient failures (bounded) and then
 * fails with UnavailableError; a concurrency conflict is a ConcurrencyError; a missing stream
 * reads as empty. The client is shared (one per container), so close() leaves it open.
 */
export const createEventStoreDBEventStore = (client: EventStoreDBClient, options: EventStoreDBEventStoreOptions = {}): EventStore => {
  const policy: EsdbCallPolicy = {
    retry: options.retry ?? DEFAULT_RETRY_POLICY,
    attemptTimeoutMs: options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
    onRetry: options.onRetry,
  };
  const pageSize = options.readAllPageSize ?? DEFAULT_READ_ALL_PAGE_SIZE;
  // headPosition's memory: the newest Chronicle event found, and the newest record scanned
  // (everything above `known` up to it is a system record).
  const head: { known: bigint | null; checkedUpTo: bigint | null } = { known: null, checkedUpTo: null };

  const readStream = async (streamId: string, readOptions: ReadStreamOptions = {}): Promise<StoredEvent[]> => {
    const forwards = (readOptions.direction ?? 'forwards') === 'forwards';
    if (readOptions.maxCount !== undefined && readOptions.maxCount <= 0) return [];
    try {
      const resolved = await callWithRetry(
        'readStream',
        (signal) =>
          collect(
            client.readStream(streamId, {
              direction: forwards ? FORWARDS : BACKWARDS,
              fromRevision: readOptions.fromRevision ?? (forwards ? START : END),
              maxCount: readOptions.maxCount ?? Number.MAX_SAFE_INTEGER,
            }),
            signal,
          ),
        policy,
      );
      return resolved.flatMap((item) => (item.event ? [toStoredEvent(item.event, item.commitPosition)] : []));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  };

  /** One page of `$all` forwards from `from` (inclusive), system records included. */
  const readAllPage = (from: ReadPosition, count: number): Promise<StoredEvent[]> =>
    callWithRetry(
      'readAll',
      async (signal) => {
        const resolved = await collect(client.readAll({ direction: FORWARDS, fromPosition: from, maxCount: count }), signal);
        return resolved.flatMap((item) => (item.event ? [toStoredEvent(item.event, item.commitPosition)] : []));
      },
      policy,
    );

  /** One page of `$all` backwards from `from` (exclusive for a position), system records included. */
  const readAllBackwardsPage = (from: ReadPosition, count: number): Promise<StoredEvent[]> =>
    callWithRetry(
      'headPosition',
      async (signal) => {
        const resolved = await collect(client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: count }), signal);
        return resolved.flatMap((item) => (item.event ? [toStoredEvent(item.event, item.commitPosition)] : []));
      },
      policy,
    );

  /**
   * The server only reads `$all` from a record's own position. The port pages on with "last
   * position + 1", which is no record's position, and a real server refuses it (an Unknown
   * status, "invalid position"); then the record just before it, at `from - 1`, is where to
   * start, and everything below `from` is dropped.
   */
  const readFirstPage = async (from: bigint): Promise<StoredEvent[]> => {
    if (from <= 0n) return readAllPage(START, pageSize);
    try {
      return await readAllPage(positionAt(from), pageSize);
    } catch (error) {
      if (!(error instanceof UnknownError)) throw error;
      return readAllPage(positionAt(from - 1n), pageSize);
    }
  };

  const appendOnce = async (streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> => {
    // Retrying an append whose outcome is unknown (the connection died after the server wrote
    // it) is safe: event ids are deterministic per command, and the server acknowledges ids
    // already written at that revision again instead of writing them twice.
    const result = await callWithRetry(
      'appendToStream',
      () =>
        client.appendToStream(streamId, events.map(toJsonEventData), {
          // The port's expected revisions are the client's own spellings.
          expectedRevision: expectedRevision satisfies AppendExpectedRevision,
          deadline: policy.attemptTimeoutMs,
        }),
      policy,
    );
    // With throwOnAppendFailure=false in the connection string the client answers instead of throwing.
    if (!result.success) throw new ConcurrencyError(streamId, formatExpected(expectedRevision), formatActual(result.nextExpectedRevision));
    const nextRevision = toBigInt(result.nextExpectedRevision);
    if (result.position) return { nextRevision, position: toBigInt(result.position.commit) };
    // Some servers answer an idempotent re-append without a position: look it up.
    const [last] = await readStream(streamId, { direction: 'backwards', fromRevision: nextRevision, maxCount: 1 });
    if (!last) throw new Error(`EventStoreDB acknowledged ${streamId}@${nextRevision} but the event cannot be read back`);
    return { nextRevision, position: last.position };
  };

  return {
    async appendToStream(streamId, events, { expectedRevision }) {
      if (events.length === 0) throw new ValidationError('an append needs at least one event', [{ path: 'events', message: 'must not be empty' }]);
      try {
        return await appendOnce(streamId, events, expectedRevision);
      } catch (error) {
        if (error instanceof WrongExpectedVersionError)
          throw new ConcurrencyError(streamId, formatExpected(expectedRevision), formatActual(error.actualVersion));
        throw error;
      }
    },

    readStream,

    // readAll in @eventstore/db-client 6.2.1 sends no_filter (only subscriptions carry a
    // server-side filter), so the prefixes are applied here while paging.
    async readAll(readOptions: ReadAllOptions = {}) {
      const from = readOptions.fromPosition ?? 0n;
      const maxCount = readOptions.maxCount ?? Number.MAX_SAFE_INTEGER;
      const prefixes = readOptions.streamPrefixes;
      const wanted = (event: StoredEvent): boolean =>
        event.position >= from && !isSystemRecord(event) && (prefixes === undefined || prefixes.some((prefix) => event.streamId.startsWith(prefix)));

      const found: StoredEvent[] = [];
      let page = await readFirstPage(from);
      for (;;) {
        for (const event of page) {
          if (!wanted(event)) continue;
          found.push(event);
          if (found.length >= maxCount) return found;
        }
        const last = page.at(-1);
        if (page.length < pageSize || last === undefined) return found;
        // Continue from the last record's own position (always valid) and skip that record.
        const next = await readAllPage(positionAt(last.position), pageSize + 1);
        page = next.filter((event) => event.position > last.position);
      }
    },

    // System records (epoch information, stats, subscription checkpoints and configuration,
    // parked links) are not what a reader of Chronicle's events can catch up with, so the head
    // is the newest Chronicle event: null on a node that holds none yet. What earlier calls
    // scanned is remembered, so an idle node's stats cost one page per call, not a rescan.
    async headPosition() {
      let newest: bigint | null = null;
      let from: ReadPosition = END;
      for (let scanned = 0; scanned < HEAD_SCAN_LIMIT; ) {
        const page = await readAllBackwardsPage(from, HEAD_SCAN_PAGE_SIZE);
        newest ??= page[0]?.position ?? null;
        for (const event of page) {
          if (head.checkedUpTo !== null && event.position <= head.checkedUpTo) break;
          if (!isSystemRecord(event)) {
            head.known = event.position;
            break;
          }
        }
        const oldest = page.at(-1);
        const reachedKnown = oldest === undefined || page.length < HEAD_SCAN_PAGE_SIZE || (head.checkedUpTo !== null && oldest.position <= head.checkedUpTo);
        if (reachedKnown || (head.known !== null && head.known >= oldest.position)) {
          head.checkedUpTo = newest;
          return head.known;
        }
        scanned += page.length;
        // Backwards from P reads below P: the next page starts right under this one.
        from = positionAt(oldest.position);
      }
      // Past HEAD_SCAN_LIMIT system records in a row the newest record stands in: lag reads high, never low.
      return newest;
    },

    async close() {
      // The client belongs to the container (closeEventStoreDBClient), not to this store.
    },
  };
};
