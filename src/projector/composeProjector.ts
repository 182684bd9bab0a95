import { userBatchProjection } from '#application/userProjection';
import type { Config } from '#config';
import type { Logger } from '#logging/jsonLogger';
import type { ReadModels } from '#ports/readModels';
import { createProjector, type Projector } from './createProjector.ts';
import { createProjectorMetrics } from './projectorMetrics.ts';
import { prepareReadModelVersion, startReadModelVersionKeeper } from './readModelVersionKeeper.ts';
import { createSupersedableWriter } from './supersedableWriter.ts';
import { openProjectorAdapters, type ProjectorAdapters } from './projectorAdapters.ts';

export interface ComposeOptions {
  /** Wraps the read models the projector writes through (tests act between a write and its ack). */
  readonly wrapReadModels?: (readModels: ReadModels, adapters: ProjectorAdapters) => ReadModels;
  readonly healthHost?: string;
}

/** Configuration → adapters → projector: the projector process's composition, also used by tests. */
export const composeProjector = async (config: Config, logger: Logger, options: ComposeOptions = {}): Promise<{ projector: Projector; adapters: ProjectorAdapters }> => {
  const adapters = await openProjectorAdapters(config, logger);
  const metrics = createProjectorMetrics();
  const writer = createSupersedableWriter(options.wrapReadModels?.(adapters.readModels, adapters) ?? adapters.readModels);
  const supersede = (superseded: boolean): void => {
    if (superseded !== writer.isSuperseded()) logger.info(superseded ? 'own read-model version superseded: acknowledging without writing' : 'own read-model version written again', { version: config.readModelVersion });
    writer.setSuperseded(superseded);
  };
  const projector = createProjector({
    source: adapters.source,
    readModels: writer,
    eventStore: adapters.eventStore,
    prepareBatch: userBatchProjection(adapters.keys),
    settings: {
      ...config.projector,
      maxRetryCount: config.projector.subscription.maxRetryCount,
      ...(options.healthHost === undefined ? {} : { healthHost: options.healthHost }),
    },
    logger,
    versions: {
      prepare: async (signal) =>
        supersede(
          (await prepareReadModelVersion(
            { registry: adapters.registry, eventStore: adapters.eventStore, version: config.readModelVersion, logger, prepareBatch: userBatchProjection(adapters.keys) },
            signal,
          )) === 'superseded',
        ),
      startKeeper: () =>
        startReadModelVersionKeeper({
          registry: adapters.registry,
          eventStore: adapters.eventStore,
          version: config.readModelVersion,
          logger,
          settings: config.projector.versions,
          metricsRegistry: metrics.registry,
          onSuperseded: supersede,
          prepareBatch: userBatchProjection(adapters.keys),
        }),
    },
    metrics,
  });
  return { projector, adapters };
};
