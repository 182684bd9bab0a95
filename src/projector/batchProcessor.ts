import { retryWithBackoff, type BackoffPolicy } from '#application/retryWithBackoff';
import { projectStoredEvent } from '#application/userProjection';
import { isNewerSchemaVersionError, isUnavailableError } from '#domain/errors';
import type { DeliveredEvent, EventSubscription } from '#ports/eventSource';
import type { StoredEvent } from '#ports/eventStore';
import type { ProjectedEvent, ReadModelWriter } from '#ports/readModels';
import type { Logger } from '#logging/jsonLogger';
import type { ProjectorMetrics } from './projectorMetrics.ts';
import type { HeldStreams } from './heldStreams.ts';
import type { Watermark } from './watermark.ts';

export interface BatchProcessorDeps {
  readonly readModels: ReadModelWriter;
  readonly watermark: Watermark;
  readonly metrics: ProjectorMetrics;
  readonly logger: Logger;
  readonly retry: BackoffPolicy;
  /** A gap event delivered this many times already is parked: its predecessor is not coming. */
  readonly maxRetryCount: number;
  readonly project?: (event: StoredEvent) => ProjectedEvent;
  /**
   * Fetches what projecting a batch needs (its users' data keys, once per user per batch) and
   * answers the projection of one event. Takes precedence over `project`.
   */
  readonly prepareBatch?: PrepareBatch;
  readonly isTransient?: (error: unknown) => boolean;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Streams held behind a parked event (heldStreams.ts); without it, later events of such a stream are retried and parked one by one. */
  readonly held?: HeldStreams;
  /** An event of a newer schema version than this code knows: how long to wait before it is delivered again (default 5 s). */
  readonly newerSchemaWaitMs?: number;
  readonly onNewerSchema?: (event: StoredEvent) => void;
}

export type PrepareBatch = (events: readonly StoredEvent[]) => Promise<(event: StoredEvent) => ProjectedEvent>;

export interface BatchProcessor {
  /**
   * Projects, writes (one applyBatch), then acks or nacks every event of the batch. With
   * `previous` (the batch before, still being written), this one's write goes out at once, on
   * the same connection and so after it, but its events are settled only once `previous` has
   * settled: acks stay in order, and the watermark never counts an event of this batch as
   * resolved while one of an earlier batch might still fail.
   */
  process(subscription: EventSubscription, batch: readonly DeliveredEvent[], signal?: AbortSignal, previous?: Promise<void>): Promise<void>;
  /** Writes the watermark on its own when it moved past the last checkpoint written. */
  flushCheckpoint(signal?: AbortSignal): Promise<void>;
  /** True when the watermark is ahead of the checkpoint written (worth a flush when idle). */
  checkpointBehind(): boolean;
  /** The checkpoint known to be stored (set from the read models when subscribing). */
  checkpoint(): bigint | null;
  setCheckpoint(checkpoint: bigint | null): void;
  /** False after a write failed for want of the read-model store, until one succeeds. */
  readModelsReachable(): boolean;
}

// Stream → highest revision known applied. Only used to predict which events of a batch will
// resolve; forgetting it just makes one checkpoint more conservative, so it is bounded by clearing.
const MAX_KNOWN_STREAMS = 100_000;

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const inPositionOrder = (events: readonly DeliveredEvent[]): boolean => {
  for (let i = 1; i < events.length; i++) if (events[i - 1]!.event.position > events[i]!.event.position) return false;
  return true;
};

export const createBatchProcessor = (deps: BatchProcessorDeps): BatchProcessor => {
  const { readModels, watermark, metrics, logger, retry, maxRetryCount } = deps;
  const projectOne = deps.project ?? ((event: StoredEvent) => projectStoredEvent(event));
  const prepareBatch: PrepareBatch = deps.prepareBatch ?? (async () => projectOne);
  const isTransient = deps.isTransient ?? isUnavailableError;
  const knownApplied = new Map<string, bigint>();
  let written: bigint | null = null;
  let reachable = true;

  const remember = (streamId: string, revision: bigint): void => {
    const known = knownApplied.get(streamId);
    if (known !== undefined && known >= revision) return;
    if (known === undefined && knownApplied.size >= MAX_KNOWN_STREAMS) knownApplied.clear();
    knownApplied.set(streamId, revision);
  };

  // The checkpoint goes into the same atomic write as the batch, before its outcomes are known.
  // So it counts an event as resolved only when it cannot be a gap (revision 0, or its
  // predecessor is known applied or precedes it in this batch); a conservative guess is
  // corrected by the next write or an idle flush, an optimistic one could never be taken back.
  const predictCheckpoint = (events: readonly ProjectedEvent[], alsoResolved: readonly bigint[]): bigint | null => {
    const resolved = new Set<bigint>(alsoResolved);
    const reachableRevision = new Map<string, bigint>();
    for (const event of events) {
      const known = reachableRevision.get(event.streamId) ?? knownApplied.get(event.streamId);
      if (event.revision === 0n || (known !== undefined && event.revision <= known + 1n)) {
        resolved.add(event.position);
        if (known === undefined || event.revision > known) reachableRevision.set(event.streamId, event.revision);
      }
    }
    return watermark.current(resolved);
  };

  const write = async (events: readonly ProjectedEvent[], checkpoint: bigint | null, signal?: AbortSignal) => {
    try {
      const outcomes = await retryWithBackoff(() => readModels.applyBatch(events, checkpoint), retry, {
        isTransient,
        signal,
        ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
        onRetry: (error, attempt, delayMs) => {
          reachable = false;
          metrics.retries.inc();
          logger.warn('read-model write failed, retrying', { attempt, delayMs, error: errorMessage(error) });
        },
      });
      reachable = true;
      if (checkpoint !== null && (written === null || checkpoint > written)) written = checkpoint;
      if (written !== null) metrics.checkpoint.set(Number(written));
      return outcomes;
    } catch (error) {
      if (isTransient(error)) reachable = false;
      throw error;
    }
  };

  const park = async (subscription: EventSubscription, events: readonly DeliveredEvent[], reason: string): Promise<void> => {
    // Held first: should the process die between the two, the redelivered event holds it again.
    for (const { event } of events) await deps.held?.hold(event, reason);
    await subscription.nack(events, 'park', reason);
    metrics.parked.inc(events.length);
    for (const { event } of events) {
      watermark.resolve(event.position);
      logger.warn('event parked', { streamId: event.streamId, revision: event.revision, type: event.type, reason });
    }
  };

  /**
   * Newer code wrote it: not poison. Not acknowledged; it goes back to the subscription after a
   * bounded wait (the whole pipeline waits with it), and only once it has been delivered
   * maxRetryCount times is it parked, to be replayed by the newer projector.
   */
  const waitForNewerCode = async (subscription: EventSubscription, delivered: DeliveredEvent, reason: string, signal?: AbortSignal): Promise<void> => {
    deps.onNewerSchema?.(delivered.event);
    if (delivered.retryCount >= maxRetryCount) return park(subscription, [delivered], `gave up waiting for newer code after ${delivered.retryCount} deliveries: ${reason}`);
    const waitMs = deps.newerSchemaWaitMs ?? 5_000;
    logger.warn('event of a newer schema version than this projector knows: waiting for newer code', {
      streamId: delivered.event.streamId,
      revision: delivered.event.revision.toString(),
      type: delivered.event.type,
      reason,
      waitMs,
      delivery: delivered.retryCount + 1,
    });
    await (deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))))(waitMs, signal).catch(() => undefined);
    await subscription.nack([delivered], 'retry', `waiting for newer code: ${reason}`);
  };

  return {
    async process(subscription, batch, signal, previous) {
      const ordered = inPositionOrder(batch) ? batch : [...batch].sort((a, b) => (a.event.position < b.event.position ? -1 : 1));

      // 0. what projecting needs (the users' data keys), fetched once for the whole batch; when the
      // key store stays unreachable the batch goes back, like a failed write
      let project: (event: StoredEvent) => ProjectedEvent;
      try {
        project = await retryWithBackoff(() => prepareBatch(ordered.map((delivered) => delivered.event)), retry, {
          isTransient,
          signal,
          ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
          onRetry: (error, attempt, delayMs) => {
            metrics.retries.inc();
            logger.warn('preparing a batch failed, retrying', { attempt, delayMs, error: errorMessage(error) });
          },
        });
      } catch (error) {
        logger.error('preparing a batch failed, sending it back', { events: ordered.length, error: errorMessage(error) });
        await previous?.catch(() => undefined);
        await subscription.nack(ordered, 'retry', `preparing the batch failed: ${errorMessage(error)}`);
        return;
      }

      // 1. project; a throw is poison: parked with the reason, the batch goes on without it
      const sources: DeliveredEvent[] = [];
      const projected: ProjectedEvent[] = [];
      const poison: { delivered: DeliveredEvent; reason: string }[] = [];
      const newer: { delivered: DeliveredEvent; reason: string }[] = [];
      for (const delivered of ordered) {
        try {
          projected.push(project(delivered.event));
          sources.push(delivered);
        } catch (error) {
          (isNewerSchemaVersionError(error) ? newer : poison).push({ delivered, reason: errorMessage(error) });
        }
      }
      for (const { delivered, reason } of poison) await park(subscription, [delivered], reason);
      for (const { delivered, reason } of newer) await waitForNewerCode(subscription, delivered, reason, signal);
      if (projected.length === 0) {
        await previous?.catch(() => undefined);
        return;
      }

      // 2. one atomic write: the changes, each stream's revision, the checkpoint. Events of the
      // batch before, if still in flight, are pending in the watermark: the checkpoint stops
      // short of them whatever becomes of that batch.
      const writing = write(projected, predictCheckpoint(projected, []), signal).then(
        (outcomes) => ({ outcomes }),
        (error: unknown) => ({ error }),
      );
      // Its own failure is the caller's to handle; here it only has to be over.
      await previous?.catch(() => undefined);
      const result = await writing;
      if ('error' in result) {
        const { error } = result;
        const reason = `read-model write failed: ${errorMessage(error)}`;
        logger.error('read-model write failed, sending the batch back', { events: sources.length, transient: isTransient(error), error: errorMessage(error) });
        // Sources park an exhausted retry themselves, silently: parked here, the watermark learns
        // it is resolved instead of waiting for it for the rest of the subscription.
        const exhausted = sources.filter((delivered) => delivered.retryCount >= maxRetryCount);
        if (exhausted.length > 0) await park(subscription, exhausted, `gave up after ${maxRetryCount} retries: ${reason}`);
        await subscription.nack(exhausted.length === 0 ? sources : sources.filter((delivered) => delivered.retryCount < maxRetryCount), 'retry', reason);
        return;
      }
      const { outcomes } = result;

      // 3. ack what is applied or duplicate; a gap goes back until its predecessor is applied
      const done: DeliveredEvent[] = [];
      const gaps: DeliveredEvent[] = [];
      const writtenAt = Date.now();
      let applied = 0;
      let duplicates = 0;
      for (let i = 0; i < sources.length; i++) {
        const delivered = sources[i]!;
        const { event } = delivered;
        switch (outcomes[i]) {
          case 'applied':
            applied++;
            metrics.eventLatency.observe(Math.max(0, writtenAt - event.recordedAt.getTime()) / 1000);
            remember(event.streamId, event.revision);
            done.push(delivered);
            break;
          case 'duplicate':
            duplicates++;
            remember(event.streamId, event.revision);
            done.push(delivered);
            break;
          case 'gap':
            gaps.push(delivered);
            break;
          default:
            throw new Error(`applyBatch answered ${String(outcomes[i])} for event ${i} of ${sources.length}`);
        }
      }
      // The write is durable whether or not the ack below arrives, so it is counted first.
      metrics.batches.inc();
      metrics.batchSize.observe(projected.length);
      metrics.eventsApplied.inc(applied);
      if (duplicates > 0) metrics.duplicates.inc(duplicates);
      // Durable now: resolved even if the ack below is lost with the connection.
      for (const delivered of done) watermark.resolve(delivered.event.position);
      if (done.length > 0) await subscription.ack(done);
      if (applied > 0) await deps.held?.releaseApplied(done.map((delivered) => delivered.event));
      for (const delivered of gaps) {
        const hold = await deps.held?.heldAt(delivered.event.streamId);
        if (hold !== undefined && hold !== null && delivered.event.revision > hold.revision) {
          // Behind a parked event: the log keeps it, the release applies it in order.
          watermark.resolve(delivered.event.position);
          await subscription.ack([delivered]);
          deps.held?.heldEvent();
          continue;
        }
        const reason = `waiting for revision ${delivered.event.revision - 1n} of ${delivered.event.streamId}`;
        if (delivered.retryCount >= maxRetryCount) {
          await park(subscription, [delivered], `gave up ${reason} after ${delivered.retryCount} retries`);
        } else {
          await subscription.nack([delivered], 'retry', reason);
          metrics.gaps.inc();
        }
      }
    },

    async flushCheckpoint(signal) {
      const mark = watermark.current();
      if (mark === null || (written !== null && mark <= written)) return;
      await write([], mark, signal);
    },

    checkpointBehind() {
      const mark = watermark.current();
      return mark !== null && (written === null || mark > written);
    },

    checkpoint: () => written,

    setCheckpoint(checkpoint) {
      written = checkpoint;
      if (checkpoint !== null) metrics.checkpoint.set(Number(checkpoint));
    },

    readModelsReachable: () => reachable,
  };
};
