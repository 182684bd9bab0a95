import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '#logging/jsonLogger';
import type { EventStore, StoredEvent } from '#ports/eventStore';
import type { HeldStream, ProjectedEvent, ReadModelReader, ReadModelWriter } from '#ports/readModels';

/**
 * A parked event must not freeze its user: once an event of a stream is parked, the stream is
 * held in the read store at that revision. Its later events, arriving as gaps, are acknowledged
 * as held instead of being retried and parked one by one (the log keeps them); reads of the
 * user answer stale meanwhile. When the parked event is replayed (`npm run parked -- replay`)
 * and applied, the rest of the stream is applied in order from the log and the hold released.
 */
export interface HeldStreamsDeps {
  readonly readModels: ReadModelWriter & Pick<ReadModelReader, 'getHeldStream' | 'listHeldStreams' | 'getAppliedRevision'>;
  /** Where the held events are read back from on release; without it a hold is only released by hand. */
  readonly eventStore?: Pick<EventStore, 'readStream'>;
  /** Per page read back: its users' data keys, then the projection of each event. */
  readonly prepareBatch: (events: readonly StoredEvent[]) => Promise<(event: StoredEvent) => ProjectedEvent>;
  readonly logger: Logger;
  readonly registry?: Registry;
}

export interface HeldStreams {
  /** The hold on this stream, if any (looked up in the read store, remembered here). */
  heldAt(streamId: string): Promise<HeldStream | null>;
  hold(event: StoredEvent, reason: string): Promise<void>;
  /** Counts an event acknowledged because its stream is held. */
  heldEvent(): void;
  /** After a batch: streams held at an event now applied get the rest of their events from the log, then are released. */
  releaseApplied(applied: readonly StoredEvent[]): Promise<void>;
}

const RELEASE_PAGE_SIZE = 500;
const REFRESH_INTERVAL_MS = 5_000;
const MAX_KNOWN_HOLDS = 10_000;

export const createHeldStreams = (deps: HeldStreamsDeps): HeldStreams => {
  const { readModels, logger } = deps;
  const registers = deps.registry === undefined ? [] : [deps.registry];
  const heldGauge = new Gauge({ name: 'chronicle_projector_held_streams', help: 'Streams held behind a parked event (known to this projector)', registers });
  const heldEvents = new Counter({ name: 'chronicle_projector_held_events_total', help: 'Events acknowledged without applying because their stream is held', registers });
  const known = new Map<string, HeldStream>();
  // Holds made by another projector, or by this one before a restart, are learnt from the store now and then.
  let refreshedAt = Number.NEGATIVE_INFINITY;
  const refresh = async (): Promise<void> => {
    if (Date.now() - refreshedAt < REFRESH_INTERVAL_MS) return;
    refreshedAt = Date.now();
    known.clear();
    for (const held of await readModels.listHeldStreams(MAX_KNOWN_HOLDS)) known.set(held.streamId, held);
    heldGauge.set(known.size);
  };
  const remember = (held: HeldStream | null, streamId: string): void => {
    if (held === null) known.delete(streamId);
    else known.set(streamId, held);
    heldGauge.set(known.size);
  };

  /** Applies the stream's events after its applied revision, from the log, in order; answers the revision it stopped at when one failed. */
  const applyRest = async (eventStore: Pick<EventStore, 'readStream'>, streamId: string): Promise<{ failedAt: bigint; reason: string } | null> => {
    for (;;) {
      const applied = await readModels.getAppliedRevision(streamId);
      const page = await eventStore.readStream(streamId, { fromRevision: applied === null ? 0n : applied + 1n, maxCount: RELEASE_PAGE_SIZE });
      if (page.length === 0) return null;
      const project = await deps.prepareBatch(page);
      const projected: ProjectedEvent[] = [];
      for (const event of page) {
        try {
          projected.push(project(event));
        } catch (error) {
          if (projected.length > 0) await readModels.applyBatch(projected, null);
          return { failedAt: event.revision, reason: error instanceof Error ? error.message : String(error) };
        }
      }
      await readModels.applyBatch(projected, null);
      if (page.length < RELEASE_PAGE_SIZE) return null;
    }
  };

  return {
    async heldAt(streamId) {
      const held = known.get(streamId) ?? (await readModels.getHeldStream(streamId));
      remember(held, streamId);
      return held;
    },

    async hold(event, reason) {
      await readModels.holdStream(event.streamId, event.revision, reason);
      remember(await readModels.getHeldStream(event.streamId), event.streamId);
      logger.warn('stream held behind a parked event: its later events wait for the replay', { streamId: event.streamId, revision: event.revision.toString() });
    },

    heldEvent: () => heldEvents.inc(),

    async releaseApplied(applied) {
      await refresh();
      if (known.size === 0) return;
      for (const event of applied) {
        const held = known.get(event.streamId);
        if (held === undefined || event.revision < held.revision || deps.eventStore === undefined) continue;
        const failed = await applyRest(deps.eventStore, event.streamId);
        await readModels.releaseStream(event.streamId);
        // A later event that arrived as a gap while the rest was applied was acknowledged as held:
        // one more pass after the release picks it up from the log.
        const failedAgain = failed ?? (await applyRest(deps.eventStore, event.streamId));
        remember(null, event.streamId);
        if (failedAgain !== null) {
          const [stuck] = await deps.eventStore.readStream(event.streamId, { fromRevision: failedAgain.failedAt, maxCount: 1 });
          if (stuck !== undefined) await this.hold(stuck, `held again: ${failedAgain.reason}`);
        } else logger.info('held stream released: its later events are applied', { streamId: event.streamId });
      }
    },
  };
};
