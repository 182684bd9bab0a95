import { byPosition } from '#ports/eventStore';
import type { ProjectedEvent, ReadModelChange } from '#ports/readModels';

type Patch = Extract<ReadModelChange, { type: 'userPatched' }>;

/** `{ email: undefined }` means "not patched": only defined fields override (written out: this runs per event of a rebuild). */
const withFields = <T extends Patch['fields']>(base: T, fields: Patch['fields']): T => {
  const merged: { -readonly [K in keyof T]: T[K] } = { ...base };
  if (fields.email !== undefined) merged.email = fields.email;
  if (fields.displayName !== undefined) merged.displayName = fields.displayName;
  if (fields.status !== undefined) merged.status = fields.status;
  if (fields.emailVerified !== undefined) merged.emailVerified = fields.emailVerified;
  return merged;
};

/**
 * Appends `next` to a list of changes, merging it into the last one where the result is the
 * same as applying both: a patch into the user's creation or into the patch before it. Any
 * other pair (a change type added later, say) stays two changes, applied in order.
 */
const appendChange = (changes: ReadModelChange[], next: ReadModelChange): void => {
  const last = changes.at(-1);
  if (next.type === 'userPatched' && last !== undefined) {
    if (last.type === 'userCreated' && last.user.id === next.userId) {
      changes[changes.length - 1] = { type: 'userCreated', user: withFields(last.user, next.fields) };
      return;
    }
    if (last.type === 'userPatched' && last.userId === next.userId) {
      changes[changes.length - 1] = { type: 'userPatched', userId: next.userId, fields: withFields(last.fields, next.fields) };
      return;
    }
  }
  changes.push(next);
};

interface Folding {
  readonly streamId: string;
  readonly firstRevision: bigint;
  revision: bigint;
  position: bigint;
  readonly changes: ReadModelChange[];
}

/** Folds events one at a time (see foldProjectedEvents): memory grows with the streams, not the events. */
export interface StreamFolder {
  add(event: ProjectedEvent): void;
  /** The folds so far, ordered by their last position; the folder starts empty again. */
  take(): ProjectedEvent[];
}

export const createStreamFolder = (): StreamFolder => {
  let open = new Map<string, Folding>();
  let done: Folding[] = [];
  return {
    add(event) {
      const current = open.get(event.streamId);
      if (current !== undefined && (event.firstRevision ?? event.revision) === current.revision + 1n) {
        current.revision = event.revision;
        current.position = event.position;
        for (const change of event.changes) appendChange(current.changes, change);
        return;
      }
      if (current !== undefined) done.push(current);
      const changes: ReadModelChange[] = [];
      for (const change of event.changes) appendChange(changes, change);
      open.set(event.streamId, { streamId: event.streamId, firstRevision: event.firstRevision ?? event.revision, revision: event.revision, position: event.position, changes });
    },
    take() {
      done.push(...open.values());
      const folds = done
        .sort(byPosition)
        .map((fold) => ({ streamId: fold.streamId, firstRevision: fold.firstRevision, revision: fold.revision, position: fold.position, changes: fold.changes }));
      open = new Map();
      done = [];
      return folds;
    },
  };
};

/**
 * Pure: folds the events of each stream in a page of the log (in log order) into one event per
 * run of consecutive revisions, so a user registered, renamed and suspended in one page costs
 * one write. The result is ordered by each fold's last position, which keeps "the last writer of
 * an email address wins" as in event order. A revision that does not follow the one before it
 * (a skipped poison event) starts a new fold, which the read model then holds back as a gap.
 */
export const foldProjectedEvents = (events: readonly ProjectedEvent[]): ProjectedEvent[] => {
  const folder = createStreamFolder();
  for (const event of events) folder.add(event);
  return folder.take();
};
