/**
 * Snapshots of streams: a cache of a stream's folded state at one revision, so that loading a
 * long stream reads the snapshot and only the events after it. Never the source of truth: a
 * snapshot may be missing, old or unreadable, and readers then fold the stream from its start.
 * The store keeps the newest snapshot written per stream (the last write wins); the payload is
 * opaque to it (the application seals it with the user's data key before it gets here).
 *
 * Adapters translate their client's errors (an unreachable store is an UnavailableError);
 * callers treat every failure as "no snapshot".
 */
export interface Snapshot {
  /** The stream it summarises. */
  readonly streamId: string;
  /** Revision of the last event folded into it. */
  readonly revision: bigint;
  /** Global position of that event (what a command answers when it appends nothing). */
  readonly position: bigint;
  /** Id of that event: a reader checks the stream still holds it there before trusting the rest. */
  readonly eventId: string;
  /** Which state schema and upcasters it was folded with; a reader ignores formats it does not know. */
  readonly format: string;
  /** Opaque, e.g. sealed state. */
  readonly payload: string;
}

export interface SnapshotStore {
  /** The newest snapshot written for the stream, or null when there is none. */
  read(streamId: string): Promise<Snapshot | null>;
  /** Replaces the stream's snapshot (older ones may linger until the store prunes them, never read again). */
  write(snapshot: Snapshot): Promise<void>;
  close(): Promise<void>;
}
