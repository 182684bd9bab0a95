import type { JsonObject } from '#domain/upcasters';

/**
 * The event log. Streams are ordered by revision (from 0); the whole log by a global position
 * that only grows. Revisions and positions are 64-bit, so they are bigint everywhere.
 *
 * Adapters translate their client's errors: a concurrency conflict is a ConcurrencyError
 * (#domain/errors) carrying both revisions, an unreachable store is an UnavailableError, and a
 * stream that does not exist reads as empty.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/** Metadata written with every event (DESIGN.md § Events). Extra keys are allowed. */
export interface EventMetadata {
  readonly schemaVersion: number;
  readonly $correlationId: string;
  readonly $causationId: string;
  readonly commandId: string;
  readonly occurredAt: string;
  /** Who sent the command: the verified principal's issuer and subject (never an email). */
  readonly actor?: { readonly issuer: string; readonly subject: string };
  readonly [key: string]: unknown;
}

export interface NewEvent {
  /** Deterministic per command (UUID v5 of commandId + index): the same id appended twice is stored once. */
  readonly id: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
}

export interface StoredEvent {
  readonly id: string;
  readonly streamId: string;
  readonly type: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly data: JsonObject;
  /** As stored; readers take `schemaVersion` from here (missing means 1). */
  readonly metadata: JsonObject;
  readonly recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  readonly nextRevision: bigint;
  /** Global position of the last event appended. */
  readonly position: bigint;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive start. Default: the first event forwards, the last event backwards. */
  readonly fromRevision?: bigint;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Inclusive: events at positions >= fromPosition. Default: the start of the log. */
  readonly fromPosition?: bigint;
  readonly maxCount?: number;
  /** Only events of streams whose id starts with one of these. Default: every stream. */
  readonly streamPrefixes?: readonly string[];
}

export interface EventStore {
  /**
   * Appends atomically or not at all. Appending ids that are already stored at that place is a
   * no-op answering the original result, so a retried command never writes twice.
   */
  appendToStream(streamId: string, events: readonly NewEvent[], options: { readonly expectedRevision: ExpectedRevision }): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /** One page of the whole log in position order; page on with the last position + 1. */
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  /** Position of the newest event in the log, or null when it is empty (lag metric). */
  headPosition(): Promise<bigint | null>;
  close(): Promise<void>;
}

export const schemaVersionOf = (event: Pick<StoredEvent, 'metadata'>): number => {
  const version = event.metadata['schemaVersion'];
  return typeof version === 'number' && Number.isInteger(version) && version > 0 ? version : 1;
};

/** Log order, for sort: ascending global position. */
export const byPosition = (a: { readonly position: bigint }, b: { readonly position: bigint }): number => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0);
