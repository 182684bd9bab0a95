/** An event as a client proposes it. */
export interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

/** An event as the log holds it: one record, commit position == prepare position. */
export interface RecordedEntry extends ProposedEvent {
  readonly logIndex: number;
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  /** 100 ns ticks since the Unix epoch, as the server reports `created`. */
  readonly created: bigint;
}

export type ExpectedRevision =
  | { readonly kind: 'any' }
  | { readonly kind: 'no_stream' }
  | { readonly kind: 'stream_exists' }
  | { readonly kind: 'exact'; readonly revision: bigint };

export type WriteOutcome =
  | { readonly kind: 'success'; readonly currentRevision: bigint | null; readonly position: bigint | null }
  | { readonly kind: 'wrong_expected_version'; readonly current: bigint | null; readonly expected: ExpectedRevision }
  | { readonly kind: 'stream_deleted' };

export type StreamRead =
  | { readonly kind: 'not_found' }
  | { readonly kind: 'deleted' }
  | { readonly kind: 'events'; readonly events: readonly RecordedEntry[] };

export type Direction = 'forwards' | 'backwards';
export type StreamStart = 'start' | 'end' | bigint;
export type AllStart = 'start' | 'end' | bigint;

interface StreamState {
  readonly entries: RecordedEntry[];
  /** Revisions below this are hidden from reads (soft delete, parked-message replay). */
  truncateBefore: bigint;
  softDeleted: boolean;
  tombstoned: boolean;
}

export const LINK_EVENT_TYPE = '$>';
export const METADATA_EVENT_TYPE = '$metadata';
export const STREAM_DELETED_EVENT_TYPE = '$streamDeleted';
/** What a scavenged record leaves in `$all` (the emulator's stand-in for a removed record). */
export const SCAVENGED_EVENT_TYPE = '$scavenged';
/** The revision a tombstone is written at (long.MaxValue on the server). */
export const TOMBSTONE_REVISION = 9223372036854775807n;

const FIRST_POSITION = 1000n;
const RECORD_OVERHEAD = 128n;
const encoder = new TextEncoder();

/**
 * The emulator's whole state: every stream and the `$all` log. Everything is synchronous, so
 * a reader that copies the history and registers a listener in one turn never misses an event.
 */
export class EventLog {
  private readonly all: RecordedEntry[] = [];
  private readonly streams = new Map<string, StreamState>();
  private readonly firstWriteOfId = new Map<string, RecordedEntry>();
  private readonly listeners = new Set<(entries: readonly RecordedEntry[]) => void>();
  private nextPosition = FIRST_POSITION;

  onAppend(listener: (entries: readonly RecordedEntry[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get headPosition(): bigint | null {
    return this.all.at(-1)?.position ?? null;
  }

  get size(): number {
    return this.all.length;
  }

  entryAt(logIndex: number): RecordedEntry | undefined {
    return this.all[logIndex];
  }

  /** The first log index whose position is >= `position`. */
  indexAtOrAfter(position: bigint): number {
    let low = 0;
    let high = this.all.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.all[middle]?.position ?? 0n) < position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The revision a reader or an expected-revision check sees as the stream's last one. */
  currentRevision(streamId: string): bigint | null {
    const state = this.streams.get(streamId);
    if (state === undefined || state.entries.length === 0) return null;
    const last = BigInt(state.entries.length - 1);
    if (state.softDeleted && last < state.truncateBefore) return null;
    return last;
  }

  isTombstoned(streamId: string): boolean {
    return this.streams.get(streamId)?.tombstoned ?? false;
  }

  event(streamId: string, revision: bigint): RecordedEntry | undefined {
    const state = this.streams.get(streamId);
    if (state === undefined || revision < state.truncateBefore) return undefined;
    return state.entries[Number(revision)];
  }

  /** The target of a `$>` link (`<revision>@<stream>`), when it still exists. */
  resolveLink(link: RecordedEntry): RecordedEntry | undefined {
    if (link.type !== LINK_EVENT_TYPE) return undefined;
    const text = new TextDecoder().decode(link.data);
    const at = text.indexOf('@');
    if (at <= 0) return undefined;
    const revision = text.slice(0, at);
    if (!/^\d+$/.test(revision)) return undefined;
    return this.event(text.slice(at + 1), BigInt(revision));
  }

  append(streamId: string, expected: ExpectedRevision, events: readonly ProposedEvent[]): WriteOutcome {
    const state = this.stateOf(streamId);
    if (state.tombstoned) return { kind: 'stream_deleted' };
    const current = this.currentRevision(streamId);

    const retried = this.idempotentOutcome(streamId, expected, events);
    if (retried !== undefined) return retried;
    if (!matches(expected, current)) return { kind: 'wrong_expected_version', current, expected };
    if (events.length === 0) return { kind: 'success', currentRevision: current, position: null };

    const written = this.write(state, streamId, events);
    return { kind: 'success', currentRevision: written.at(-1)?.revision ?? null, position: written.at(-1)?.position ?? null };
  }

  /** Soft delete: reads answer not-found, a later append continues the numbering. */
  softDelete(streamId: string, expected: ExpectedRevision): WriteOutcome {
    const state = this.stateOf(streamId);
    if (state.tombstoned) return { kind: 'stream_deleted' };
    const current = this.currentRevision(streamId);
    if (!matches(expected, current)) return { kind: 'wrong_expected_version', current, expected };
    const truncateBefore = BigInt(state.entries.length);
    const [metadata] = this.setTruncateBefore(streamId, truncateBefore);
    state.softDeleted = true;
    return { kind: 'success', currentRevision: current, position: metadata?.position ?? null };
  }

  tombstone(streamId: string, expected: ExpectedRevision): WriteOutcome {
    const state = this.stateOf(streamId);
    if (state.tombstoned) return { kind: 'stream_deleted' };
    const current = this.currentRevision(streamId);
    if (!matches(expected, current)) return { kind: 'wrong_expected_version', current, expected };
    state.tombstoned = true;
    const marker = this.record(streamId, TOMBSTONE_REVISION, {
      id: crypto.randomUUID(),
      type: STREAM_DELETED_EVENT_TYPE,
      contentType: 'application/octet-stream',
      data: new Uint8Array(),
      customMetadata: new Uint8Array(),
    });
    this.publish([marker]);
    return { kind: 'success', currentRevision: current, position: marker.position };
  }

  /** Hides revisions below `revision`, recording it as `$tb` in the `$$<stream>` metadata stream. */
  setTruncateBefore(streamId: string, revision: bigint): RecordedEntry[] {
    const state = this.stateOf(streamId);
    state.truncateBefore = revision;
    const metadataStream = `$$${streamId}`;
    return this.write(this.stateOf(metadataStream), metadataStream, [
      {
        id: crypto.randomUUID(),
        type: METADATA_EVENT_TYPE,
        contentType: 'application/json',
        data: encoder.encode(JSON.stringify({ $tb: Number(revision) })),
        customMetadata: new Uint8Array(),
      },
    ]);
  }

  readStream(streamId: string, direction: Direction, from: StreamStart, count: bigint): StreamRead {
    const state = this.streams.get(streamId);
    if (state?.tombstoned) return { kind: 'deleted' };
    if (state === undefined || this.currentRevision(streamId) === null) return { kind: 'not_found' };
    const visible = state.entries.slice(Number(state.truncateBefore));
    const first = state.truncateBefore;
    const events: RecordedEntry[] = [];
    if (direction === 'forwards') {
      const start = from === 'start' ? first : from === 'end' ? BigInt(state.entries.length) : from < first ? first : from;
      for (let i = Number(start - first); i < visible.length && BigInt(events.length) < count; i += 1) events.push(visible[i] as RecordedEntry);
    } else {
      const last = BigInt(state.entries.length - 1);
      const start = from === 'end' ? last : from === 'start' ? first : from > last ? last : from;
      for (let i = Number(start - first); i >= 0 && BigInt(events.length) < count; i -= 1) {
        const entry = visible[i];
        if (entry !== undefined) events.push(entry);
      }
    }
    return { kind: 'events', events };
  }

  /** `$all` forwards from P returns positions >= P; backwards from P returns positions < P. */
  readAll(direction: Direction, from: AllStart, count: bigint): RecordedEntry[] {
    const events: RecordedEntry[] = [];
    if (direction === 'forwards') {
      const start = from === 'start' ? 0 : from === 'end' ? this.all.length : this.indexAtOrAfter(from);
      for (let i = start; i < this.all.length && BigInt(events.length) < count; i += 1) events.push(this.all[i] as RecordedEntry);
    } else {
      const start = from === 'end' ? this.all.length - 1 : from === 'start' ? -1 : this.indexAtOrAfter(from) - 1;
      for (let i = start; i >= 0 && BigInt(events.length) < count; i -= 1) events.push(this.all[i] as RecordedEntry);
    }
    return events;
  }

  /**
   * Scavenge, for tombstoned streams: their events' bytes leave the log for good and only the
   * tombstone stays. Unlike the server, each record keeps its place in `$all` as an empty
   * `$scavenged` system record, so that subscriptions' positions in the log stay valid.
   */
  scavenge(): number {
    let removed = 0;
    for (const state of this.streams.values()) {
      if (!state.tombstoned) continue;
      for (const entry of state.entries) {
        if (entry.type === SCAVENGED_EVENT_TYPE) continue;
        const emptied: RecordedEntry = { ...entry, type: SCAVENGED_EVENT_TYPE, data: new Uint8Array(), customMetadata: new Uint8Array() };
        this.all[entry.logIndex] = emptied;
        if (this.firstWriteOfId.get(entry.id) === entry) this.firstWriteOfId.delete(entry.id);
        removed += 1;
      }
      state.entries.fill(undefined as unknown as RecordedEntry);
      state.entries.length = 0;
    }
    return removed;
  }

  /** Whether any record still holds `needle` in its data or metadata (what a scavenge must remove). */
  holdsBytes(needle: Uint8Array): boolean {
    const target = Buffer.from(needle);
    return this.all.some((entry) => Buffer.from(entry.data).includes(target) || Buffer.from(entry.customMetadata).includes(target));
  }

  /** Appends to a stream without expected-revision checks (the server's own writes: parked links). */
  appendSystem(streamId: string, events: readonly ProposedEvent[]): RecordedEntry[] {
    return this.write(this.stateOf(streamId), streamId, events);
  }

  /**
   * A retried append is acknowledged again without writing when its ids already sit, in order,
   * at the place the expected revision points to (anywhere in the stream for any/stream_exists).
   * A partial overlap is a wrong expected version, as on the server.
   */
  private idempotentOutcome(streamId: string, expected: ExpectedRevision, events: readonly ProposedEvent[]): WriteOutcome | undefined {
    const head = events[0];
    if (head === undefined) return undefined;
    const first = this.firstWriteOfId.get(head.id);
    if (first === undefined || first.streamId !== streamId || first.revision === TOMBSTONE_REVISION) return undefined;
    const placeMatches =
      expected.kind === 'any' || expected.kind === 'stream_exists'
        ? true
        : expected.kind === 'no_stream'
          ? first.revision === 0n
          : first.revision === expected.revision + 1n;
    if (!placeMatches) return undefined;
    const state = this.stateOf(streamId);
    let last = first;
    for (const [offset, event] of events.entries()) {
      const stored = state.entries[Number(first.revision) + offset];
      if (stored === undefined || stored.id !== event.id) {
        return { kind: 'wrong_expected_version', current: this.currentRevision(streamId), expected };
      }
      last = stored;
    }
    return { kind: 'success', currentRevision: last.revision, position: last.position };
  }

  private stateOf(streamId: string): StreamState {
    let state = this.streams.get(streamId);
    if (state === undefined) {
      state = { entries: [], truncateBefore: 0n, softDeleted: false, tombstoned: false };
      this.streams.set(streamId, state);
    }
    return state;
  }

  private write(state: StreamState, streamId: string, events: readonly ProposedEvent[]): RecordedEntry[] {
    const written = events.map((event) => {
      const entry = this.record(streamId, BigInt(state.entries.length), event);
      state.entries.push(entry);
      return entry;
    });
    this.publish(written);
    return written;
  }

  private record(streamId: string, revision: bigint, event: ProposedEvent): RecordedEntry {
    const entry: RecordedEntry = {
      ...event,
      logIndex: this.all.length,
      streamId,
      revision,
      position: this.nextPosition,
      created: BigInt(Date.now()) * 10_000n,
    };
    this.nextPosition += RECORD_OVERHEAD + BigInt(event.data.length + event.customMetadata.length + event.type.length);
    this.all.push(entry);
    if (!this.firstWriteOfId.has(event.id)) this.firstWriteOfId.set(event.id, entry);
    return entry;
  }

  private publish(entries: readonly RecordedEntry[]): void {
    if (entries.length === 0) return;
    for (const listener of [...this.listeners]) listener(entries);
  }
}

const matches = (expected: ExpectedRevision, current: bigint | null): boolean => {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no_stream':
      return current === null;
    case 'stream_exists':
      return current !== null;
    case 'exact':
      return current === expected.revision;
  }
};
