import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fullJitterDelay, sleep, type BackoffPolicy } from '#application/retryWithBackoff';
import type { EventSource, EventSubscription } from '#ports/eventSource';
import type { EventStore, StoredEvent } from '#ports/eventStore';
import { Counter } from 'prom-client';
import { projectStoredEvent } from '#application/userProjection';
import { createHeldStreams } from './heldStreams.ts';
import type { ProjectedEvent, ReadModelReader, ReadModelWriter } from '#ports/readModels';
import { createBatchProcessor, type PrepareBatch } from './batchProcessor.ts';
import { createBatcher, type Batcher } from './batcher.ts';
import type { Logger } from '#logging/jsonLogger';
import type { ProjectorMetrics } from './projectorMetrics.ts';
import { createWatermark } from './watermark.ts';

export interface ProjectorRuntimeSettings {
  readonly batchSize: number;
  readonly batchMaxWaitMs: number;
  readonly maxInFlight: number;
  /** Backoff of read-model writes (bounded) and of resubscribing (unbounded, capped delay). */
  readonly retry: BackoffPolicy;
  /** Deliveries after which an event still waiting for its predecessor is parked. */
  readonly maxRetryCount: number;
  /**
   * How long events in hand when a subscription dropped may hold the checkpoint back while not
   * delivered again (another consumer or the server may have taken them); default 2 minutes.
   */
  readonly orphanGraceMs?: number;
  /** How long an event of a newer schema version waits before it is delivered again (default 5 s). */
  readonly newerSchemaWaitMs?: number;
}

export interface ProjectorRuntimeDeps {
  readonly source: EventSource;
  readonly readModels: ReadModelWriter & Pick<ReadModelReader, 'getCheckpoint' | 'getAppliedRevision' | 'getHeldStream' | 'listHeldStreams'>;
  readonly metrics: ProjectorMetrics;
  /** The log, to apply a held stream's later events once its parked event is applied. */
  readonly eventStore?: Pick<EventStore, 'readStream'>;
  readonly logger: Logger;
  readonly settings: ProjectorRuntimeSettings;
  readonly project?: (event: StoredEvent) => ProjectedEvent;
  readonly prepareBatch?: PrepareBatch;
  readonly isTransient?: (error: unknown) => boolean;
}

export interface ProjectorStatus {
  readonly subscribed: boolean;
  readonly readModelsReachable: boolean;
}

export interface ProjectorRuntime {
  /** Runs until stop(): subscribes, and subscribes again whenever the subscription drops. */
  start(): void;
  /** Stops taking events, finishes and acknowledges the current batch, writes the checkpoint, closes the subscription. */
  stop(): Promise<void>;
  status(): ProjectorStatus;
  /** The last checkpoint written (or read when subscribing). */
  checkpoint(): bigint | null;
}

/** Two: one being written while the next is projected and sent; more would only queue in Redis. */
const MAX_BATCHES_IN_FLIGHT = 2;
/** How often, under load, the event holding the watermark back is looked up in the read models. */
const RELEASE_INTERVAL_MS = 1000;
const MAX_RELEASES_AT_ONCE = 1000;
const DEFAULT_ORPHAN_GRACE_MS = 120_000;

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export const createProjectorRuntime = (deps: ProjectorRuntimeDeps): ProjectorRuntime => {
  const { source, readModels, metrics, logger, settings } = deps;
  const watermark = createWatermark();
  const processor = createBatchProcessor({
    readModels,
    watermark,
    metrics,
    logger,
    retry: settings.retry,
    maxRetryCount: settings.maxRetryCount,
    ...(deps.project === undefined ? {} : { project: deps.project }),
    ...(deps.prepareBatch === undefined ? {} : { prepareBatch: deps.prepareBatch }),
    ...(deps.isTransient === undefined ? {} : { isTransient: deps.isTransient }),
    held: createHeldStreams({
      readModels,
      ...(deps.eventStore === undefined ? {} : { eventStore: deps.eventStore }),
      prepareBatch: deps.prepareBatch ?? (async () => deps.project ?? ((event) => projectStoredEvent(event))),
      logger,
      registry: metrics.registry,
    }),
    ...(settings.newerSchemaWaitMs === undefined ? {} : { newerSchemaWaitMs: settings.newerSchemaWaitMs }),
    onNewerSchema: () => newerSchemaWaits.inc(),
  });
  const newerSchemaWaits = new Counter({
    name: 'chronicle_projector_newer_schema_waits_total',
    help: 'Deliveries of an event of a newer schema version than this projector knows, sent back to wait for newer code',
    registers: [metrics.registry],
  });
  const stopping = new AbortController();
  let subscribed = false;
  let checkpointReadable = true;
  let batcher: Batcher | null = null;
  let running: Promise<void> | null = null;
  let releasedAt = 0;
  let orphansSince: number | null = null;

  // The event holding the watermark back may be durable already: an orphan of an earlier
  // subscription that another consumer of the group applied, or one whose ack was lost. Once
  // its stream's applied revision has reached it, it is durable, whoever wrote it.
  const releaseApplied = async (): Promise<void> => {
    releasedAt = performance.now();
    for (let released = 0; released < MAX_RELEASES_AT_ONCE; released++) {
      const event = watermark.blocking();
      if (event === null) return;
      const applied = await readModels.getAppliedRevision(event.streamId).catch(() => null);
      if (applied === null || applied < event.revision) return;
      watermark.resolve(event.position);
    }
  };

  // Orphans never delivered again (parked by the server, or by another consumer) would hold the
  // checkpoint back for good: after a grace far longer than a redelivery takes, give up on them.
  // At most once a second: a look-up costs a round trip.
  const settleOrphans = async (): Promise<void> => {
    if (performance.now() - releasedAt < RELEASE_INTERVAL_MS) return;
    await releaseApplied();
    if (orphansSince === null) return;
    if (watermark.orphansAwaited() === 0) {
      orphansSince = null;
    } else if (performance.now() - orphansSince >= (settings.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS)) {
      orphansSince = null;
      logger.warn('gave up waiting for events of an earlier subscription; the checkpoint may pass them', { events: watermark.abandonOrphans() });
    }
  };

  const consume = async (subscription: EventSubscription, current: Batcher): Promise<void> => {
    // Batches being written, oldest first: the next one is projected and sent while the last
    // is in flight, so that Node and Redis work at the same time.
    const inFlight: Promise<void>[] = [];
    let failure: { readonly error: unknown } | null = null;
    const rethrowFailure = (): void => {
      if (failure !== null) throw failure.error;
    };
    const drain = async (): Promise<void> => {
      await Promise.all(inFlight.splice(0));
      rethrowFailure();
    };
    try {
      for (;;) {
        // While batches are in flight, the checkpoint written lags the watermark or orphans hold it
        // back, do not wait forever for a next batch.
        const wake = inFlight.length > 0 || processor.checkpointBehind() || orphansSince !== null;
        const batch = await current.next(wake ? { idleMs: settings.batchMaxWaitMs } : undefined);
        rethrowFailure();
        if (batch === null) break;
        if (batch.length === 0) {
          await drain();
          await settleOrphans();
          await processor.flushCheckpoint(stopping.signal);
          continue;
        }
        await settleOrphans();
        if (inFlight.length >= MAX_BATCHES_IN_FLIGHT) await inFlight.shift();
        rethrowFailure();
        const processing = processor.process(subscription, batch, stopping.signal, inFlight.at(-1)).then(
          () => current.release(batch.length),
          (error: unknown) => void (failure ??= { error }),
        );
        inFlight.push(processing);
        // Lets the client send this batch's write (node-redis writes on setImmediate), and signals,
        // health checks and timers run even while a synchronous store and a read-ahead source
        // would otherwise chain batches on microtasks alone.
        await yieldToEventLoop();
      }
    } finally {
      // Stopping or failing, every batch sent is settled (acked or sent back) before returning.
      await Promise.all(inFlight.splice(0));
    }
    rethrowFailure();
  };

  const runOnce = async (): Promise<boolean> => {
    let subscription: EventSubscription | null = null;
    let consumed = false;
    try {
      const afterPosition = await readModels.getCheckpoint();
      checkpointReadable = true;
      processor.setCheckpoint(afterPosition);
      watermark.orphanPending();
      if (watermark.orphansAwaited() > 0) orphansSince = performance.now();
      await releaseApplied();
      subscription = await source.subscribe({ afterPosition });
      if (stopping.signal.aborted) return consumed;
      subscribed = true;
      logger.info('subscribed', { afterPosition });
      const current = createBatcher(subscription, {
        batchSize: settings.batchSize,
        batchMaxWaitMs: settings.batchMaxWaitMs,
        maxInFlight: settings.maxInFlight,
        onTake: (delivered) => {
          consumed = true;
          watermark.received(delivered.event);
        },
      });
      batcher = current;
      await consume(subscription, current);
      if (!stopping.signal.aborted) logger.warn('subscription ended, subscribing again');
    } catch (error) {
      if (subscription === null) checkpointReadable = false;
      logger.error(subscription === null ? 'could not subscribe' : 'subscription dropped', { error: errorMessage(error) });
    } finally {
      subscribed = false;
      batcher?.stop();
      batcher = null;
      await processor.flushCheckpoint(stopping.signal).catch((error: unknown) => logger.warn('could not write the checkpoint', { error: errorMessage(error) }));
      await subscription?.close().catch((error: unknown) => logger.warn('could not close the subscription', { error: errorMessage(error) }));
    }
    return consumed;
  };

  const run = async (): Promise<void> => {
    for (let failures = 0; !stopping.signal.aborted; ) {
      const madeProgress = await runOnce();
      if (stopping.signal.aborted) break;
      failures = madeProgress ? 0 : failures + 1;
      metrics.resubscriptions.inc();
      // Never spin: at least the base delay, jittered above it.
      const delayMs = settings.retry.baseDelayMs + fullJitterDelay(failures, settings.retry);
      logger.info('resubscribing', { delayMs, failures });
      await sleep(delayMs, stopping.signal);
    }
    logger.info('stopped', { checkpoint: processor.checkpoint() });
  };

  return {
    start() {
      running ??= run();
    },
    async stop() {
      stopping.abort();
      batcher?.stop();
      await running;
    },
    status: () => ({ subscribed, readModelsReachable: checkpointReadable && processor.readModelsReachable() }),
    checkpoint: () => processor.checkpoint(),
  };
};
