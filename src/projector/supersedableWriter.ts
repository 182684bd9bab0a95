import type { ApplyOutcome, ProjectedEvent, ReadModelReader, ReadModelWriter } from '#ports/readModels';

type RuntimeReadModels = ReadModelWriter & Pick<ReadModelReader, 'getCheckpoint' | 'getAppliedRevision' | 'getHeldStream' | 'listHeldStreams'>;

export interface SupersedableWriter extends RuntimeReadModels {
  /** From now on, batches are acknowledged without being written (or written again, with false). */
  setSuperseded(superseded: boolean): void;
  isSuperseded(): boolean;
}

/**
 * The subscription's writer for this process's own version. Once that version is retired (a
 * newer one is active) or was dropped, writing it would only waste the store, or bring back a
 * dropped version: batches are then acknowledged as applied without a write. Nothing is lost by
 * that: every live version is kept current from the log itself (readModelVersionKeeper.ts), not
 * from this subscription.
 */
export const createSupersedableWriter = (inner: RuntimeReadModels): SupersedableWriter => {
  let superseded = false;
  return {
    applyBatch: (events: readonly ProjectedEvent[], checkpoint: bigint | null): Promise<ApplyOutcome[]> =>
      superseded ? Promise.resolve(events.map((): ApplyOutcome => 'applied')) : inner.applyBatch(events, checkpoint),
    holdStream: (streamId, revision, reason) => (superseded ? Promise.resolve() : inner.holdStream(streamId, revision, reason)),
    releaseStream: (streamId) => (superseded ? Promise.resolve() : inner.releaseStream(streamId)),
    getHeldStream: (streamId) => inner.getHeldStream(streamId),
    listHeldStreams: (limit) => inner.listHeldStreams(limit),
    getCheckpoint: () => inner.getCheckpoint(),
    getAppliedRevision: (streamId) => inner.getAppliedRevision(streamId),
    setSuperseded: (value) => void (superseded = value),
    isSuperseded: () => superseded,
  };
};
