import { loadConfig } from '#config';
import { testRegistryNamespace } from './projectorProcess.ts';
import { composeProjector } from '#projector/composeProjector';
import type { Projector } from '#projector/createProjector';
import type { ProjectorAdapters } from '#projector/projectorAdapters';
import type { LogFields, Logger, LogLevel } from '#logging/jsonLogger';
import type { ReadModels } from '#ports/readModels';

export interface CapturedLog {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
}

export interface ProductionProjector {
  readonly projector: Projector;
  /** The adapters exactly as the projector process opens them (EventStoreDB + Redis here). */
  readonly adapters: ProjectorAdapters;
  readonly healthPort: number;
  readonly logs: CapturedLog[];
  /** The last `count` log lines as text, for failure messages. */
  tail(count?: number): string;
  /** What SIGTERM does in main.ts: finish the current batch, stop, close the clients. */
  stop(): Promise<void>;
}

/**
 * The projector in this process, composed as src/projector/main.ts composes it
 * (composeProjector), without the signal handling around it. Logs are captured instead of printed; the health server listens on a
 * free loopback port.
 */
export interface ProductionProjectorOptions {
  /** Wraps the Redis read models the projector writes through, e.g. to act between a write and its ack. */
  readonly wrapReadModels?: (readModels: ReadModels) => ReadModels;
}

export const startProductionProjector = async (env: Readonly<Record<string, string>>, options: ProductionProjectorOptions = {}): Promise<ProductionProjector> => {
  const config = loadConfig({ PROJECTOR_HEALTH_PORT: '0', READ_MODEL_REGISTRY_NAMESPACE: testRegistryNamespace(env), ...env });
  const logs: CapturedLog[] = [];
  const log =
    (level: LogLevel) =>
    (message: string, fields: LogFields = {}): void => {
      logs.push({ level, message, fields });
    };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const { projector, adapters } = await composeProjector(config, logger, {
    healthHost: '127.0.0.1',
    ...(options.wrapReadModels === undefined ? {} : { wrapReadModels: options.wrapReadModels }),
  });
  let healthPort: number | null;
  try {
    ({ healthPort } = await projector.start());
  } catch (error) {
    await adapters.close();
    throw error;
  }
  let stopped: Promise<void> | null = null;
  return {
    projector,
    adapters,
    healthPort: healthPort ?? 0,
    logs,
    tail: (count = 20) =>
      logs
        .slice(-count)
        .map(({ level, message, fields }) => `${level} ${message} ${JSON.stringify(fields, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}`)
        .join('\n'),
    stop: () =>
      (stopped ??= (async () => {
        await projector.stop();
        await adapters.close();
      })()),
  };
};
