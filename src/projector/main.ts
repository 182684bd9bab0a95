import { loadConfig } from '#config';
import { userBatchProjection } from '#application/userProjection';
import { guardCheckpoint } from './checkpointGuard.ts';
import { composeProjector } from './composeProjector.ts';
import { USER_STREAMS } from './projectorAdapters.ts';
import { startEmfPublisher, timeBatchWrites, type EmfPublisher } from './emfMetrics.ts';
import { createJsonLogger } from '#logging/jsonLogger';
import { resolveSecretEnv } from '#secretEnv';

/**
 * The projector process: configuration → adapters → projector, then waits for SIGTERM/SIGINT
 * (ECS stops tasks with SIGTERM): finish and acknowledge the current batch, close the clients,
 * exit 0 — or exit 1 if that takes longer than PROJECTOR_SHUTDOWN_TIMEOUT_MS.
 */
// On ECS the task definition injects secrets itself; X_SECRET_ARN is resolved here for other hosts.
const config = loadConfig(await resolveSecretEnv(process.env));
const logger = createJsonLogger('projector', config.logLevel);

// Taken from the start: a signal while the adapters connect (a task stopped while it starts)
// ends in the same clean exit instead of Node's default death by signal.
let signalled: NodeJS.Signals | null = null;
let onSignal = (signal: NodeJS.Signals): void => {
  signalled ??= signal;
};
process.once('SIGTERM', (signal) => onSignal(signal));
process.once('SIGINT', (signal) => onSignal(signal));
logger.info('starting', { eventStore: config.eventStore.kind, readModels: config.readModels.kind });

let drainBatchWriteDurations = (): number[] => [];
const { projector, adapters } = await composeProjector(config, logger, {
  wrapReadModels: (readModels, adapters) => {
    // Redis may lose acknowledged writes (failover, restored snapshot): repair before writing on.
    const guarded =
      config.readModels.kind === 'redis'
        ? guardCheckpoint({
            readModels,
            eventStore: adapters.eventStore,
            prepare: userBatchProjection(adapters.keys),
            streamPrefixes: USER_STREAMS,
            logger,
            catchUpAtStart: config.eventStore.kind === 'eventstoredb',
            onApplied: (count) => projector.metrics.eventsApplied.inc(count),
          }).readModels
        : readModels;
    const timed = timeBatchWrites(guarded);
    drainBatchWriteDurations = timed.drain;
    return timed.writer;
  },
});
let emf: EmfPublisher | null = null;

let shuttingDown = false;
const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info('stopping', { signal });
  const deadline = setTimeout(() => {
    logger.error('shutdown took too long, exiting', { timeoutMs: config.projector.shutdownTimeoutMs });
    process.exit(1);
  }, config.projector.shutdownTimeoutMs);
  try {
    await projector.stop();
    await emf?.stop();
    await adapters.close();
    clearTimeout(deadline);
    process.exit(0);
  } catch (error) {
    logger.error('shutdown failed', { error });
    process.exit(1);
  }
};
onSignal = (signal) => void shutdown(signal);

if (signalled !== null) {
  await shutdown(signalled);
} else {
  const { healthPort } = await projector.start();
  if (config.projector.emfIntervalMs > 0)
    emf = startEmfPublisher({
      metrics: projector.metrics,
      batchWriteDurations: () => drainBatchWriteDurations(),
      stage: config.stage,
      intervalMs: config.projector.emfIntervalMs,
    });
  logger.info('projector started', {
    eventStore: config.eventStore.kind,
    readModels: config.readModels.kind,
    readModelVersion: config.readModelVersion,
    healthPort,
  });
}
