import type { Config } from '#config';
import type { Logger } from '#logging/jsonLogger';
import type { ReadModels } from '#ports/readModels';
import { createProjector, type Projector } from './createProjector.ts';
import { openProjectorAdapters, type ProjectorAdapters } from './projectorAdapters.ts';

export interface ComposeOptions {
  /** Wraps the read models the projector writes through (tests act between a write and its ack). */
  readonly wrapReadModels?: (readModels: ReadModels, adapters: ProjectorAdapters) => ReadModels;
  readonly healthHost?: string;
}

/** Configuration → adapters → projector: the projector process's composition, also used by tests. */
export const composeProjector = async (config: Config, logger: Logger, options: ComposeOptions = {}): Promise<{ projector: Projector; adapters: ProjectorAdapters }> => {
  const adapters = await openProjectorAdapters(config, logger);
  const projector = createProjector({
    source: adapters.source,
    readModels: options.wrapReadModels?.(adapters.readModels, adapters) ?? adapters.readModels,
    eventStore: adapters.eventStore,
    settings: {
      ...config.projector,
      maxRetryCount: config.projector.subscription.maxRetryCount,
      ...(options.healthHost === undefined ? {} : { healthHost: options.healthHost }),
    },
    logger,
  });
  return { projector, adapters };
};
