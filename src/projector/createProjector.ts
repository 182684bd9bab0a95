import type { ProjectorConfig } from '#config';
import type { EventSource } from '#ports/eventSource';
import type { EventStore, StoredEvent } from '#ports/eventStore';
import type { ProjectedEvent, ReadModelReader, ReadModelWriter } from '#ports/readModels';
import type { PrepareBatch } from './batchProcessor.ts';
import { startHealthServer, type HealthServer } from './healthServer.ts';
import { startLagSampler, type LagSampler } from './lagSampler.ts';
import { silentLogger, type Logger } from '#logging/jsonLogger';
import { createProjectorMetrics, type ProjectorMetrics } from './projectorMetrics.ts';
import { createProjectorRuntime, type ProjectorStatus } from './projectorRuntime.ts';

export interface ProjectorDeps {
  readonly source: EventSource;
  readonly readModels: ReadModelWriter & Pick<ReadModelReader, 'getCheckpoint' | 'getAppliedRevision' | 'getHeldStream' | 'listHeldStreams'>;
  /**
   * For the lag metric (head of the log; without it the lag gauge stays 0), and to apply a held
   * stream's later events from the log when its parked event is replayed (readStream).
   */
  readonly eventStore?: Pick<EventStore, 'headPosition'> & Partial<Pick<EventStore, 'readStream'>>;
  readonly settings: Pick<ProjectorConfig, 'batchSize' | 'batchMaxWaitMs' | 'maxInFlight' | 'retry'> & {
    readonly maxRetryCount: number;
    /** Null: no HTTP server (in-process tests that do not need it). */
    readonly healthPort: number | null;
    readonly healthHost?: string;
    readonly lagSampleIntervalMs?: number;
    readonly orphanGraceMs?: number;
    /** How long an event of a newer schema version waits before it is delivered again (default 5 s). */
    readonly newerSchemaWaitMs?: number;
  };
  readonly logger?: Logger;
  readonly metrics?: ProjectorMetrics;
  readonly project?: (event: StoredEvent) => ProjectedEvent;
  /** Per batch: fetches its users' data keys and answers the projection (see userBatchProjection). */
  readonly prepareBatch?: PrepareBatch;
  readonly isTransient?: (error: unknown) => boolean;
  /** Blue/green read models (readModelVersionKeeper.ts): run before subscribing, and beside the runtime. */
  readonly versions?: ProjectorVersions;
}

export interface ProjectorVersions {
  /** Registers (and, when new, builds) this projector's version; retried until it succeeds or the projector stops. */
  prepare(signal: AbortSignal): Promise<void>;
  startKeeper(): { stop(): Promise<void> };
}

export interface Projector {
  /** Starts the health server and the runtime; answers the health port (null without one). */
  start(): Promise<{ readonly healthPort: number | null }>;
  /** Finishes the current batch, writes the checkpoint and stops; the caller closes the adapters. */
  stop(): Promise<void>;
  status(): ProjectorStatus;
  checkpoint(): bigint | null;
  readonly metrics: ProjectorMetrics;
}

/** The projector without the process around it (main.ts adds config, adapters and signals). */
export const createProjector = (deps: ProjectorDeps): Projector => {
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? createProjectorMetrics();
  const { settings } = deps;
  const runtime = createProjectorRuntime({
    source: deps.source,
    readModels: deps.readModels,
    metrics,
    logger,
    settings: {
      batchSize: settings.batchSize,
      batchMaxWaitMs: settings.batchMaxWaitMs,
      maxInFlight: settings.maxInFlight,
      retry: settings.retry,
      maxRetryCount: settings.maxRetryCount,
      ...(settings.orphanGraceMs === undefined ? {} : { orphanGraceMs: settings.orphanGraceMs }),
      ...(settings.newerSchemaWaitMs === undefined ? {} : { newerSchemaWaitMs: settings.newerSchemaWaitMs }),
    },
    ...(deps.eventStore?.readStream === undefined ? {} : { eventStore: { readStream: deps.eventStore.readStream.bind(deps.eventStore) } }),
    ...(deps.project === undefined ? {} : { project: deps.project }),
    ...(deps.prepareBatch === undefined ? {} : { prepareBatch: deps.prepareBatch }),
    ...(deps.isTransient === undefined ? {} : { isTransient: deps.isTransient }),
  });
  let health: HealthServer | null = null;
  let lag: LagSampler | null = null;
  // While the version is being built the process is healthy though not subscribed yet: a
  // container check must not kill a task that is minutes into building a new read model.
  let preparing = deps.versions !== undefined;
  const stopping = new AbortController();
  let keeper: { stop(): Promise<void> } | null = null;
  let started: Promise<void> = Promise.resolve();

  const prepareThenRun = async (versions: ProjectorVersions): Promise<void> => {
    for (let attempt = 1; !stopping.signal.aborted; attempt++) {
      try {
        await versions.prepare(stopping.signal);
        break;
      } catch (error) {
        if (stopping.signal.aborted) return;
        const delayMs = Math.min(settings.retry.maxDelayMs, settings.retry.baseDelayMs * 2 ** Math.min(attempt, 10));
        logger.error('could not prepare the read-model version; trying again', { error: error instanceof Error ? error.message : String(error), delayMs });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    if (stopping.signal.aborted) return;
    preparing = false;
    keeper = versions.startKeeper();
    runtime.start();
  };

  return {
    metrics,
    async start() {
      if (settings.healthPort !== null) {
        health = await startHealthServer({
          port: settings.healthPort,
          ...(settings.healthHost === undefined ? {} : { host: settings.healthHost }),
          registry: metrics.registry,
          isHealthy: () => {
            const status = runtime.status();
            return preparing || (status.subscribed && status.readModelsReachable);
          },
          details: () => ({ ...runtime.status(), preparing, checkpoint: runtime.checkpoint()?.toString() ?? null }),
        });
      }
      if (deps.eventStore !== undefined) lag = startLagSampler(deps.eventStore, runtime.checkpoint, metrics, logger, settings.lagSampleIntervalMs ?? 1000);
      if (deps.versions === undefined) runtime.start();
      else started = prepareThenRun(deps.versions);
      return { healthPort: health?.port ?? null };
    },
    async stop() {
      stopping.abort();
      lag?.stop();
      await started;
      await keeper?.stop();
      await runtime.stop();
      await health?.close();
    },
    status: runtime.status,
    checkpoint: runtime.checkpoint,
  };
};
