import type { DeliveredEvent, EventSubscription, NackAction } from '#ports/eventSource';
import type { StoredEvent } from '#ports/eventStore';

/**
 * Where a polling source gets its events and keeps parked ones. The memory and SQLite sources
 * differ only here; delivery, retries and parking rules live in createPollingSubscription.
 */
export interface PollingFeed {
  /**
   * Up to `limit` events of the source's streams at positions above `after`, in position order,
   * and how far the log was looked at (every position up to `scannedUpTo` has been considered),
   * so that the next page does not look at filtered-out events again.
   */
  readPage(after: bigint, limit: number): Promise<{ readonly events: readonly StoredEvent[]; readonly scannedUpTo: bigint }>;
  /** Parked events someone asked to replay, oldest first, leaving out the given positions. */
  pendingReplays(exclude: ReadonlySet<bigint>): Promise<readonly StoredEvent[]>;
  /** A replayed event was acked or skipped: it leaves the parked set for good. */
  replaySettled(event: StoredEvent): Promise<void>;
  /** Puts the event aside with the reason (again, if it was replayed). */
  park(event: StoredEvent, reason: string): Promise<void>;
}

export interface PollingOptions {
  readonly pollIntervalMs: number;
  /** A retried event is parked instead once it has been retried this often. */
  readonly maxRetryCount: number;
  /** Events read ahead at a time: the bound on what the source holds in memory. */
  readonly pageSize: number;
}

/**
 * A catch-up subscription by polling, for sources with no server-side checkpoint: it resumes
 * after the reader's own checkpoint, reads the log a page at a time, and polls when caught up.
 * One consumer; events come in position order, except that retried and replayed events come
 * first, as soon as they are due.
 */
export const createPollingSubscription = (
  feed: PollingFeed,
  options: PollingOptions,
  afterPosition: bigint | null,
  onClose: () => void = () => undefined,
): EventSubscription => {
  let cursor = afterPosition ?? -1n;
  let readAhead: readonly StoredEvent[] = [];
  let readIndex = 0;
  const retries: DeliveredEvent[] = [];
  const replays: StoredEvent[] = [];
  // Replayed events stay marked in the feed until settled: these are the ones in our hands.
  const replaysInFlight = new Set<bigint>();
  let closed = false;
  let wake: (() => void) | null = null;
  let pending: Promise<IteratorResult<DeliveredEvent>> = Promise.resolve({ done: true, value: undefined });

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  const enqueueRetry = (delivered: DeliveredEvent): void => {
    const at = retries.findIndex((queued) => queued.event.position > delivered.event.position);
    if (at === -1) retries.push(delivered);
    else retries.splice(at, 0, delivered);
    wake?.();
  };

  const settle = async (event: StoredEvent): Promise<void> => {
    if (!replaysInFlight.delete(event.position)) return;
    await feed.replaySettled(event);
  };

  const park = async (event: StoredEvent, reason: string): Promise<void> => {
    replaysInFlight.delete(event.position);
    await feed.park(event, reason);
  };

  const pull = async (): Promise<IteratorResult<DeliveredEvent>> => {
    for (;;) {
      if (closed) return { done: true, value: undefined };
      const retry = retries.shift();
      if (retry !== undefined) return { done: false, value: retry };
      const replay = replays.shift();
      if (replay !== undefined) return { done: false, value: { event: replay, retryCount: 0 } };
      const next = readAhead[readIndex];
      if (next !== undefined) {
        readIndex++;
        return { done: false, value: { event: next, retryCount: 0 } };
      }

      for (const event of await feed.pendingReplays(replaysInFlight)) {
        replaysInFlight.add(event.position);
        replays.push(event);
      }
      if (replays.length > 0) continue;

      const page = await feed.readPage(cursor, options.pageSize);
      readAhead = page.events;
      readIndex = 0;
      if (page.scannedUpTo > cursor) cursor = page.scannedUpTo;
      if (readAhead.length === 0 && !closed) await sleep(options.pollIntervalMs);
    }
  };

  const close = async (): Promise<void> => {
    closed = true;
    wake?.();
    onClose();
    await pending.catch(() => undefined);
  };

  const iterator: AsyncIterator<DeliveredEvent> = {
    // Calls queue up behind each other, so a source is never read twice at once.
    next() {
      pending = pending.catch(() => undefined).then(pull);
      return pending;
    },
    async return() {
      await close();
      return { done: true, value: undefined };
    },
  };

  return {
    [Symbol.asyncIterator]: () => iterator,

    async ack(events) {
      for (const delivered of events) await settle(delivered.event);
    },

    async nack(events, action: NackAction, reason) {
      for (const delivered of events) {
        switch (action) {
          case 'retry':
            if (delivered.retryCount >= options.maxRetryCount) await park(delivered.event, `retried ${delivered.retryCount} times: ${reason}`);
            else enqueueRetry({ event: delivered.event, retryCount: delivered.retryCount + 1 });
            break;
          case 'park':
            await park(delivered.event, reason);
            break;
          case 'skip':
            await settle(delivered.event);
            break;
          default: {
            const unknown: never = action;
            throw new TypeError(`unknown nack action ${String(unknown)}`);
          }
        }
      }
    },

    close,
  };
};
