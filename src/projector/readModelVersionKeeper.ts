import { catchUpReadModel, type PreparePage } from '#application/catchUpReadModel';
import { eventsBehind, REBUILD_SEGMENT_SIZE } from '#application/readModelVersions';
import { isChronicleError } from '#domain/errors';
import type { Logger } from '#logging/jsonLogger';
import type { EventStore } from '#ports/eventStore';
import type { ReadModelRegistry } from '#ports/readModels';
import { Gauge, type Registry } from 'prom-client';

/**
 * The projector's side of blue/green read models, beside the subscription runtime:
 *
 * - at start-up (prepareReadModelVersion): register this process's READ_MODEL_VERSION; with no
 *   active version at all, activate it (a fresh store, or one that predates the registry); if
 *   another version is active and this one is building, fill it from the log with large
 *   catch-up reads, then mark it live. The subscription then starts at its checkpoint.
 * - while running (startReadModelVersionKeeper), every checkIntervalMs: keep every other live
 *   version of the same projection current with catch-up reads (a version built by
 *   `read-models rebuild`, say), and — auto-activation — switch queries to this process's
 *   version once it has caught up, if it is newer than the active one.
 *
 * Every writer of a version goes through the same gap-checked, folded writes, so several
 * projectors (a rolling deploy, old and new tasks overlapping) and a CLI rebuild may write one
 * version at once; and a projector only ever writes versions of its own projection code.
 */
export interface VersionKeeperDeps {
  readonly registry: ReadModelRegistry;
  readonly eventStore: Pick<EventStore, 'readAll' | 'headPosition' | 'readStream'>;
  /** This process's READ_MODEL_VERSION, which is also the id of its projection code. */
  readonly version: number;
  readonly logger: Logger;
  readonly settings: { readonly autoActivate: boolean; readonly activationMaxLag: number; readonly checkIntervalMs: number };
  /** Projects a page of the log with its users' data keys (userBatchProjection). */
  readonly prepareBatch?: PreparePage;
  /** The projector's Prometheus registry: the keeper adds its gauges there. */
  readonly metricsRegistry?: Registry;
  /** Told on every check whether this process's own version is superseded (retired, or replaced while dropped). */
  readonly onSuperseded?: (superseded: boolean) => void;
}

/** The persistent-subscription group of a version: version 1 keeps the configured name, so existing deployments keep their group. */
export const subscriptionGroupFor = (baseGroup: string, version: number): string => (version === 1 ? baseGroup : `${baseGroup}-v${version}`);

/** What a projector's subscription does with its own version once prepared. */
export type OwnVersionRole = 'write' | 'superseded';

/**
 * Whether `version` is superseded: retired, or never registered (or dropped) while a newer
 * version of the same projection is active (`read-models rebuild` + `activate` with this code).
 */
export const isSuperseded = async (registry: ReadModelRegistry, version: number): Promise<boolean> => {
  const [record, active] = await Promise.all([registry.getVersion(version), registry.getActiveVersion()]);
  if (record?.state === 'retired') return true;
  if (record !== null || active === null || active <= version) return false;
  return (await registry.getVersion(active))?.projection === version;
};

export const prepareReadModelVersion = async (deps: Omit<VersionKeeperDeps, 'settings' | 'metricsRegistry'>, signal?: AbortSignal): Promise<OwnVersionRole> => {
  const { registry, version, logger } = deps;
  if (await isSuperseded(registry, version)) {
    logger.warn('this read-model version is retired or superseded: the subscription acknowledges without writing, live versions of this projection are kept current from the log', { version, active: await registry.getActiveVersion() });
    return 'superseded';
  }
  const { record, created } = await registry.registerVersion(version, version);
  if (record.projection !== version) throw new Error(`read-model version ${version} was built by projection ${record.projection}; this projector runs projection ${version}`);
  if (created) logger.info('read-model version registered', { version });
  const active = await registry.getActiveVersion();
  if (active === null) {
    await registry.activateVersion(version, { expectedActive: null }).catch((error: unknown) => {
      if (!(isChronicleError(error) && error.code === 'ACTIVE_VERSION_CHANGED')) throw error;
    });
    logger.info('read-model version activated: none was active', { version });
    return 'write';
  }
  if (active === version || record.state !== 'building') return 'write';
  logger.info('building read-model version from the log', { version, active });
  const started = Date.now();
  let lastLog = started;
  const progress = await catchUpReadModel(
    { eventStore: deps.eventStore, readModels: registry.readModels(version), ...(deps.prepareBatch === undefined ? {} : { prepareBatch: deps.prepareBatch }) },
    {
      onProgress: (p) => {
        if (Date.now() - lastLog < 5_000) return;
        lastLog = Date.now();
        logger.info('building read-model version', { version, events: p.events, position: p.position?.toString() ?? null, target: p.target?.toString() ?? null });
      },
      onPoison: (event, error) => logger.warn('event skipped in a rebuild: its projection failed', { version, streamId: event.streamId, revision: event.revision.toString(), error }),
      // Nobody reads a building version: large segments fold more of each stream per write.
      segmentSize: REBUILD_SEGMENT_SIZE,
      ...(signal === undefined ? {} : { signal }),
    },
  );
  if (signal?.aborted === true) return 'write';
  await registry.setVersionState(version, 'live');
  logger.info('read-model version built', { version, events: progress.events, held: progress.held, seconds: (Date.now() - started) / 1000 });
  return 'write';
};

export interface VersionKeeper {
  stop(): Promise<void>;
}

export const startReadModelVersionKeeper = (deps: VersionKeeperDeps): VersionKeeper => {
  const { registry, version, logger, settings } = deps;
  const registers = deps.metricsRegistry === undefined ? [] : [deps.metricsRegistry];
  const versionLag = new Gauge({ name: 'chronicle_read_model_version_lag_events', help: 'User events not yet applied to a read-model version (capped)', labelNames: ['version'], registers });
  const activeGauge = new Gauge({ name: 'chronicle_read_model_active_version', help: 'The read-model version queries read', registers });
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;

  const followLiveVersions = async (): Promise<void> => {
    for (const record of await registry.listVersions()) {
      if (stopped) return;
      if (record.version === version || record.projection !== version || record.state !== 'live') continue;
      const result = await catchUpReadModel({
        eventStore: deps.eventStore,
        readModels: registry.readModels(record.version),
        ...(deps.prepareBatch === undefined ? {} : { prepareBatch: deps.prepareBatch }),
      });
      if (result.events > 0) logger.debug('kept read-model version current', { version: record.version, events: result.events });
    }
  };

  const maybeActivate = async (): Promise<void> => {
    const active = await registry.getActiveVersion();
    activeGauge.set(active ?? 0);
    const own = await registry.getVersion(version);
    const lag = await eventsBehind(deps.eventStore, await registry.readModels(version).getCheckpoint(), settings.activationMaxLag);
    versionLag.set({ version: String(version) }, lag);
    if (!settings.autoActivate || own === null || active === version || own.state !== 'live') return;
    // Only forwards: an old task still running in a rolling deploy never switches queries back.
    if (active !== null && active > version) return;
    if (lag > settings.activationMaxLag) return;
    try {
      await registry.activateVersion(version, { expectedActive: active });
      logger.info('read-model version activated: caught up', { version, previous: active, lag });
    } catch (error) {
      if (!(isChronicleError(error) && error.code === 'ACTIVE_VERSION_CHANGED')) throw error;
    }
  };

  const tick = async (): Promise<void> => {
    try {
      deps.onSuperseded?.(await isSuperseded(registry, version));
      await maybeActivate();
      await followLiveVersions();
    } catch (error) {
      logger.warn('read-model version upkeep failed; trying again', { error: error instanceof Error ? error.message : String(error) });
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, settings.checkIntervalMs);
  };
  running = tick().finally(schedule);

  return {
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
};
