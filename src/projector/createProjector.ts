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
  readonly readModels: ReadModelWriter & Pick<ReadModelReader, 'getCheckpoint' | 'getAppliedRevision'>;
  /** For the lag metric (head of the log); without it the lag gauge stays 0. */
  readonly eventStore?: Pick<EventStore, 'headPosition'>;
  readonly settings: Pick<ProjectorConfig, 'batchSize' | 'batchMaxWaitMs' | 'maxInFlight' | 'retry'> & {
    readonly maxRetryCount: number;
    /** Null: no HTTP server (in-process tests that do not need it). */
    readonly healthPort: number | null;
    readonly healthHost?: string;
    readonly lagSampleIntervalMs?: number;
    readonly orphanGraceMs?: number;
  };
  readonly logger?: Logger;
  readonly metrics?: ProjectorMetrics;
  readonly project?: (event: StoredEvent) => ProjectedEvent;
  /** Per batch: fetches its users' data keys and answers the projection (see userBatchProjection). */
  readonly prepareBatch?: PrepareBatch;
  readonly isTransient?: (error: unknown) => boolean;
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
    },
    ...(deps.project === undefined ? {} : { project: deps.project }),
    ...(deps.prepareBatch === undefined ? {} : { prepareBatch: deps.prepareBatch }),
    ...(deps.isTransient === undefined ? {} : { isTransient: deps.isTransient }),
  });
  let health: HealthServer | null = null;
  let lag: LagSampler | null = null;

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
            return status.subscribed && status.readModelsReachable;
          },
          details: () => ({ ...runtime.status(), checkpoint: runtime.checkpoint()?.toString() ?? null }),
        });
      }
      if (deps.eventStore !== undefined) lag = startLagSampler(deps.eventStore, runtime.checkpoint, metrics, logger, settings.lagSampleIntervalMs ?? 1000);
      runtime.start();
      return { healthPort: health?.port ?? null };
    },
    async stop() {
      lag?.stop();
      await runtime.stop();
      await health?.close();
    },
    status: runtime.status,
    checkpoint: runtime.checkpoint,
  };
};
