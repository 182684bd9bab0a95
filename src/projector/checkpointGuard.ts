import type { Logger } from '#logging/jsonLogger';
import type { EventStore, StoredEvent } from '#ports/eventStore';
import type { ApplyOutcome, ProjectedEvent, ReadModels } from '#ports/readModels';
import { overrideApplyBatch } from './overrideApplyBatch.ts';

/**
 * Redis can lose acknowledged writes: a failover to a replica that had not received them, or an
 * operator restoring an older snapshot. The events behind them are acknowledged in EventStoreDB
 * already and will not be delivered again, so the read model would silently miss them. This guard
 * wraps the projector's read models and, before each batch write, makes sure the stored checkpoint
 * has not fallen below what this projector has written; when it has, it first replays the log from
 * the stored checkpoint up to that point (idempotent: the write script skips what is applied).
 *
 * With catchUpAtStart it does the same at start, from the stored checkpoint up to the head of the
 * log: an EventStoreDB persistent subscription resumes from the group's server-side checkpoint,
 * which a regressed (or emptied) Redis may be behind. (The SQLite source resumes from the
 * read-model checkpoint itself and needs no catch-up.)
 *
 * Invariant kept: the checkpoint in the read models never claims an event that is not applied,
 * because the repair completes before any new write raises the checkpoint again.
 */
export interface CheckpointGuardDeps {
  readonly readModels: ReadModels;
  readonly eventStore: Pick<EventStore, 'readAll' | 'headPosition'>;
  /** Projects a page of the log (it fetches the page's data keys first: personal fields are sealed). */
  readonly prepare: (page: readonly StoredEvent[]) => Promise<(event: StoredEvent) => ProjectedEvent>;
  readonly streamPrefixes: readonly string[];
  readonly logger: Logger;
  readonly pageSize?: number;
  readonly catchUpAtStart: boolean;
  /** Events the replays applied (not duplicates), for the events-applied metric. */
  readonly onApplied?: (count: number) => void;
  /** Called once per regression found (a metric). */
  readonly onRegression?: (stored: bigint | null, written: bigint) => void;
}

export interface GuardedReadModels {
  readonly readModels: ReadModels;
  /** Replays run so far (start-up catch-ups included). */
  replays(): number;
}

export const guardCheckpoint = (deps: CheckpointGuardDeps): GuardedReadModels => {
  const { readModels, eventStore, logger } = deps;
  const pageSize = deps.pageSize ?? 1000;
  /** The highest checkpoint this projector wrote (a stored one below it is a regression). */
  let written: bigint | null = null;
  /** The highest position of an event it wrote: a repair replays up to here. */
  let appliedUpTo: bigint | null = null;
  let started = !deps.catchUpAtStart;
  let replayCount = 0;
  let checking: Promise<void> | null = null;

  const replay = async (after: bigint | null, upTo: bigint): Promise<number> => {
    replayCount += 1;
    let from = after === null ? 0n : after + 1n;
    let replayed = 0;
    for (;;) {
      const page = (await eventStore.readAll({ fromPosition: from, maxCount: pageSize, streamPrefixes: deps.streamPrefixes })).filter((e) => e.position <= upTo);
      const last = page.at(-1);
      if (last === undefined) return replayed;
      const projected: ProjectedEvent[] = [];
      const project = await deps.prepare(page);
      for (const event of page) {
        try {
          projected.push(project(event));
        } catch (error) {
          // A poison event: the live projector parked it; the replay leaves it out the same way.
          logger.warn('replay skipped an event whose projection failed', { streamId: event.streamId, revision: event.revision, error });
        }
      }
      const outcomes = await readModels.applyBatch(projected, last.position);
      deps.onApplied?.(outcomes.filter((outcome) => outcome === 'applied').length);
      replayed += page.length;
      if (last.position >= upTo || page.length < pageSize) return replayed;
      from = last.position + 1n;
    }
  };

  const check = async (): Promise<void> => {
    if (!started) {
      const [stored, head] = await Promise.all([readModels.getCheckpoint(), eventStore.headPosition()]);
      if (head !== null && (stored === null || stored < head)) {
        const replayed = await replay(stored, head);
        logger.info('caught up from the read-model checkpoint at start', { from: stored, to: head, events: replayed });
      }
      // Only once it succeeded: a store that was down at start gets the catch-up on the retry.
      started = true;
      return;
    }
    // Taken before the read: a write this projector saw confirmed is in whatever the read returns.
    const mine = written;
    if (mine === null) return;
    const stored = await readModels.getCheckpoint();
    if (stored !== null && stored >= mine) return;
    logger.warn('the read-model checkpoint went backwards (Redis failover or restore): replaying the events it lost', { stored, written: mine });
    deps.onRegression?.(stored, mine);
    const upTo = appliedUpTo !== null && appliedUpTo > mine ? appliedUpTo : mine;
    const replayed = await replay(stored, upTo);
    logger.info('read model repaired', { from: stored, to: upTo, events: replayed });
  };

  const guarded = overrideApplyBatch(readModels, async (events: readonly ProjectedEvent[], checkpoint: bigint | null): Promise<ApplyOutcome[]> => {
    // Concurrent batches share one check; a failed check fails the batch (retried, not acked).
    checking ??= check().finally(() => {
      checking = null;
    });
    await checking;
    const outcomes = await readModels.applyBatch(events, checkpoint);
    if (checkpoint !== null && (written === null || checkpoint > written)) written = checkpoint;
    // A regression takes away everything written after the stored checkpoint, not only up to the
    // checkpoints written: a batch's checkpoint stops below the events of a batch still in
    // flight, and those events were applied (and acknowledged) all the same.
    for (const event of events) if (appliedUpTo === null || event.position > appliedUpTo) appliedUpTo = event.position;
    return outcomes;
  });
  return { readModels: guarded, replays: () => replayCount };
};
