import { byPosition, type EventStore, type StoredEvent } from '#ports/eventStore';
import type { ProjectedEvent, ReadModelReader, ReadModelWriter } from '#ports/readModels';
import { createStreamFolder } from './foldProjectedEvents.ts';
import { projectStoredEvent } from './userProjection.ts';

export const USER_STREAM_PREFIXES = ['user-'] as const;

/** Per page: fetches what projecting it needs (its users' data keys) and answers the projection of one event. */
export type PreparePage = (events: readonly StoredEvent[]) => Promise<(event: StoredEvent) => ProjectedEvent>;

export interface CatchUpDeps {
  /** readStream: the events of a fold the read model refused, read again one by one. */
  readonly eventStore: Pick<EventStore, 'readAll' | 'headPosition' | 'readStream'>;
  readonly readModels: ReadModelWriter & Pick<ReadModelReader, 'getCheckpoint'>;
  /** Default: projectStoredEvent without keys (a sealed event is then poison). */
  readonly prepareBatch?: PreparePage;
}

export interface CatchUpProgress {
  /** The version's checkpoint now (the last position read and written). */
  readonly position: bigint | null;
  /** Where this catch-up stops: the head of the log when it started, or `until`. */
  readonly target: bigint | null;
  readonly events: number;
  /** Events a projection threw on (skipped here; the live projector parks them). */
  readonly poisoned: number;
  /** Writes the read model held back as gaps (a stream whose earlier event was skipped). */
  readonly held: number;
}

export interface CatchUpOptions {
  /** Events per read of the log (default 5,000). */
  readonly pageSize?: number;
  /** Stop once this position is written; default: the head of the log when the catch-up starts. */
  readonly until?: bigint;
  readonly onProgress?: (progress: CatchUpProgress) => void;
  readonly onPoison?: (event: StoredEvent, error: unknown) => void;
  /** Checked between pages: an aborted catch-up stops after the page in hand (its checkpoint is written). */
  readonly signal?: AbortSignal;
  /**
   * Events folded together before they are written (default: one page). Larger segments fold
   * more of each stream into one write but are written in several store calls, so only for a
   * version nobody reads yet (building): a reader could see part of a segment.
   */
  readonly segmentSize?: number;
}

const DEFAULT_PAGE_SIZE = 5_000;
/** Folded events per store call: one Redis script call must stay short, it blocks every other client. */
const WRITE_CHUNK = 5_000;

const chunksOf = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
};

/** The events of refused folds, read again from the log and projected, in log order (poison skipped as before). */
const unfold = async (deps: CatchUpDeps, prepare: PreparePage, folds: readonly ProjectedEvent[]): Promise<ProjectedEvent[]> => {
  const read = await Promise.all(
    folds.map((fold) => {
      const first = fold.firstRevision ?? fold.revision;
      return deps.eventStore.readStream(fold.streamId, { fromRevision: first, maxCount: Number(fold.revision - first) + 1 });
    }),
  );
  const events = read.flat().sort(byPosition);
  const project = await prepare(events);
  const projected: ProjectedEvent[] = [];
  for (const event of events) {
    try {
      projected.push(project(event));
    } catch {
      // Poison: skipped (and reported) when the page was projected.
    }
  }
  return projected;
};

/**
 * One segment's folds, written together. A fold the read model refuses as a gap either
 * overlaps what another writer of this version applied meanwhile (two catch-ups of one
 * version, say a rebuild and a migrating projector) or follows a skipped poison event: its
 * events are read again and go one by one, so the overlap applies as duplicates plus the rest.
 * Answers how many events stayed held back.
 */
const applyFolded = async (deps: CatchUpDeps, prepare: PreparePage, folded: readonly ProjectedEvent[], checkpoint: bigint): Promise<number> => {
  const { readModels } = deps;
  // The checkpoint goes with the last write of the segment, so it never claims a refused stream.
  const refused: ProjectedEvent[] = [];
  // All chunks at once: the store pipelines them and works through the segment while this
  // process reads and projects the next one (reads are synchronous on SQLite: one chunk at a
  // time left the store idle meanwhile). Their folds are of different streams, so their order
  // does not matter.
  const chunks = chunksOf(folded, WRITE_CHUNK);
  const outcomesPerChunk = await Promise.all(chunks.map((chunk) => readModels.applyBatch(chunk, null)));
  chunks.forEach((chunk, at) => chunk.forEach((fold, index) => (outcomesPerChunk[at]?.[index] === 'gap' ? refused.push(fold) : undefined)));
  let held = 0;
  const again = chunksOf(refused.length === 0 ? [] : await unfold(deps, prepare, refused), WRITE_CHUNK);
  for (const [index, chunk] of again.entries()) {
    const outcomes = await readModels.applyBatch(chunk, index === again.length - 1 ? checkpoint : null);
    held += outcomes.filter((outcome) => outcome === 'gap').length;
  }
  if (again.length === 0) await readModels.applyBatch([], checkpoint);
  return held;
};

/**
 * Fills one read-model version from the log with large catch-up reads (never the persistent
 * subscription): page by page from the version's own checkpoint, project, fold each stream's
 * consecutive events into one write, and apply the page as one atomic batch carrying the
 * checkpoint. Resumable by construction: a rerun starts after the checkpoint the last page
 * wrote, and a page written twice is recognised as duplicates. The next page is read and
 * projected while the current one is written.
 */
export const catchUpReadModel = async (deps: CatchUpDeps, options: CatchUpOptions = {}): Promise<CatchUpProgress> => {
  const prepare: PreparePage = deps.prepareBatch ?? (async () => (event) => projectStoredEvent(event));
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const target = options.until ?? (await deps.eventStore.headPosition());
  let position = await deps.readModels.getCheckpoint();
  const progress = { events: 0, poisoned: 0, held: 0 };
  const report = (): CatchUpProgress => ({ position, target, ...progress });
  if (target === null || (position !== null && position >= target)) return report();

  const read = (from: bigint) => deps.eventStore.readAll({ fromPosition: from, maxCount: pageSize, streamPrefixes: USER_STREAM_PREFIXES });
  // One page's write in flight while the next is read, projected and folded: the store works
  // while this process does. Writes stay in log order (each starts when the one before is done).
  let writing: Promise<void> = Promise.resolve();
  const write = (folded: readonly ProjectedEvent[], checkpoint: bigint): void => {
    writing = writing.then(async () => {
      progress.held += await applyFolded(deps, prepare, folded, checkpoint);
      position = checkpoint;
      options.onProgress?.(report());
    });
    // Seen at the next await of `writing`; not an unhandled rejection meanwhile.
    writing.catch(() => undefined);
  };
  const segmentSize = options.segmentSize ?? pageSize;
  // Folded as they come: a segment in memory is a fold per stream, not its events.
  const segment = createStreamFolder();
  let segmentEvents = 0;
  let from = (position ?? 0n) + 1n;
  while (!(options.signal?.aborted ?? false)) {
    const page = await read(from);
    if (page.length === 0) break;
    const last = page.at(-1)?.position ?? 0n;
    const project = await prepare(page);
    for (const event of page) {
      if (event.position > target) break;
      progress.events++;
      segmentEvents++;
      try {
        segment.add(project(event));
      } catch (error) {
        progress.poisoned++;
        options.onPoison?.(event, error);
      }
    }
    const checkpoint = last > target ? target : last;
    const done = checkpoint >= target;
    if (segmentEvents >= segmentSize || done || page.length < pageSize) {
      await writing;
      write(segment.take(), checkpoint);
      segmentEvents = 0;
    }
    if (done) break;
    from = last + 1n;
  }
  // Aborted with a segment in hand: written too, so that the checkpoint covers what was read.
  if (segmentEvents > 0) {
    await writing;
    write(segment.take(), from - 1n);
  }
  await writing;
  return report();
};
