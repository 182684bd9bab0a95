import type { DeliveredEvent } from '#ports/eventSource';

export interface BatcherOptions {
  readonly batchSize: number;
  /** A batch is handed over at the latest this long after its first event arrived. */
  readonly batchMaxWaitMs: number;
  /** Backpressure: no more pulling while this many events are taken and not yet released. */
  readonly maxInFlight: number;
  /** Called for every event as it is taken from the source (the watermark tracks these). */
  readonly onTake?: (delivered: DeliveredEvent) => void;
  readonly now?: () => number;
}

export interface Batcher {
  /**
   * The next batch: `batchSize` events, or fewer once the first has waited `batchMaxWaitMs`.
   * Null when the source ended or the batcher was stopped; an empty batch when `idleMs` passed
   * with nothing to hand over. Rejects with the source's error when its iterator threw.
   */
  next(options?: { readonly idleMs?: number }): Promise<DeliveredEvent[] | null>;
  /** These many events are acknowledged or sent back: room to pull more. */
  release(count: number): void;
  /** Stops pulling; a waiting `next` answers null. Buffered events stay unacknowledged. */
  stop(): void;
}

/**
 * Pulls from the source in the background (so the next batch fills while the current one is
 * written) and cuts batches by count and by time.
 */
export const createBatcher = (source: AsyncIterable<DeliveredEvent>, options: BatcherOptions): Batcher => {
  const { batchSize, batchMaxWaitMs, maxInFlight, onTake } = options;
  const now = options.now ?? (() => performance.now());
  const iterator = source[Symbol.asyncIterator]();
  let buffer: DeliveredEvent[] = [];
  let arrivals: number[] = [];
  let inFlight = 0;
  let ended = false;
  let stopped = false;
  let failure: { readonly error: unknown } | null = null;
  let wakeConsumer: (() => void) | null = null;
  let wakePump: (() => void) | null = null;

  const signalConsumer = (): void => {
    const wake = wakeConsumer;
    wakeConsumer = null;
    wake?.();
  };
  const signalPump = (): void => {
    const wake = wakePump;
    wakePump = null;
    wake?.();
  };

  const pump = async (): Promise<void> => {
    try {
      while (!stopped) {
        if (inFlight >= maxInFlight) {
          await new Promise<void>((resolve) => (wakePump = resolve));
          continue;
        }
        const result = await iterator.next();
        if (result.done === true) break;
        // Taken after stop(): left unacknowledged, so it is delivered again to the next subscriber.
        if (stopped) break;
        inFlight++;
        buffer.push(result.value);
        arrivals.push(now());
        onTake?.(result.value);
        // Waking the consumer per event would cost a timer each; it only needs to know when a
        // batch may have started or is full.
        if (buffer.length === 1 || buffer.length >= batchSize) signalConsumer();
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      signalConsumer();
    }
  };
  void pump();

  const take = (count: number): DeliveredEvent[] => {
    const batch = count >= buffer.length ? buffer : buffer.slice(0, count);
    buffer = count >= buffer.length ? [] : buffer.slice(count);
    arrivals = count >= arrivals.length ? [] : arrivals.slice(count);
    return batch;
  };

  const waitForChange = (timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(done, Math.max(0, timeoutMs)) : null;
      function done(): void {
        if (timer !== null) clearTimeout(timer);
        if (wakeConsumer === done) wakeConsumer = null;
        resolve();
      }
      wakeConsumer = done;
    });

  return {
    async next(nextOptions) {
      const idleUntil = nextOptions?.idleMs === undefined ? Infinity : now() + nextOptions.idleMs;
      for (;;) {
        if (failure !== null) throw failure.error;
        if (stopped) return null;
        if (buffer.length >= batchSize) return take(batchSize);
        const firstArrival = arrivals[0];
        if (firstArrival !== undefined) {
          const waited = now() - firstArrival;
          if (waited >= batchMaxWaitMs || ended) return take(buffer.length);
          await waitForChange(batchMaxWaitMs - waited);
        } else {
          if (ended) return null;
          if (now() >= idleUntil) return [];
          await waitForChange(idleUntil - now());
        }
      }
    },
    release(count) {
      inFlight = Math.max(0, inFlight - count);
      signalPump();
    },
    stop() {
      stopped = true;
      signalConsumer();
      signalPump();
    },
  };
};
