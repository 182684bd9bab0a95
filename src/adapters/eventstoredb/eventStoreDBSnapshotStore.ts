import { randomUUID } from 'node:crypto';
import { BACKWARDS, END, StreamDeletedError, StreamNotFoundError, type EventStoreDBClient } from '@eventstore/db-client';
import type { Snapshot, SnapshotStore } from '#ports/snapshotStore';
import { callWithRetry, type EsdbCallPolicy } from './esdbRetry.ts';
import { toBigInt } from './recordedEvent.ts';
import { collect } from './streamingRead.ts';

/** `snapshot-user-<uuid>`: outside the projector's `user-` filter, so no subscription ever delivers a snapshot. */
export const SNAPSHOT_STREAM_PREFIX = 'snapshot-';
export const snapshotStreamId = (streamId: string): string => `${SNAPSHOT_STREAM_PREFIX}${streamId}`;
const SNAPSHOT_EVENT_TYPE = 'Snapshot';
/** Every how many snapshots of a stream its `$maxCount` is written again (the first time included). */
const METADATA_EVERY = 16n;

/**
 * A cache must not make a command wait: one quick retry, then the caller reads the stream in
 * full (read) or skips the snapshot (write).
 */
const SNAPSHOT_POLICY: EsdbCallPolicy = {
  retry: Object.freeze({ baseDelayMs: 20, maxDelayMs: 100, maxElapsedMs: 1_000, maxAttempts: 2 }),
  attemptTimeoutMs: 2_000,
};

interface SnapshotData {
  readonly revision: string;
  readonly position: string;
  readonly eventId: string;
  readonly format: string;
  readonly payload: string;
}

const isSnapshotData = (data: unknown): data is SnapshotData => {
  if (typeof data !== 'object' || data === null) return false;
  const fields = data as Record<string, unknown>;
  return ['revision', 'position', 'eventId', 'format', 'payload'].every((name) => typeof fields[name] === 'string') && /^\d+$/.test(String(fields['revision'])) && /^\d+$/.test(String(fields['position']));
};

/**
 * Snapshots beside the events, one stream per user stream, `snapshot-<stream id>`, each a
 * `Snapshot` event. The stream's metadata says `$maxCount: 1`, so the server keeps only the
 * newest (older ones go at the next scavenge); the newest is one backwards read of one event.
 */
export const createEventStoreDBSnapshotStore = (client: EventStoreDBClient, options: { readonly policy?: Partial<EsdbCallPolicy> } = {}): SnapshotStore => {
  const policy: EsdbCallPolicy = { ...SNAPSHOT_POLICY, ...options.policy };
  return {
    async read(streamId) {
      try {
        const [resolved] = await callWithRetry(
          'readSnapshot',
          (signal) => collect(client.readStream(snapshotStreamId(streamId), { direction: BACKWARDS, fromRevision: END, maxCount: 1 }), signal),
          policy,
        );
        const data = resolved?.event?.data;
        if (!isSnapshotData(data)) return null;
        return { streamId, revision: toBigInt(data.revision), position: toBigInt(data.position), eventId: data.eventId, format: data.format, payload: data.payload } satisfies Snapshot;
      } catch (error) {
        if (error instanceof StreamNotFoundError || error instanceof StreamDeletedError) return null;
        throw error;
      }
    },

    async write(snapshot) {
      const data: SnapshotData = {
        revision: snapshot.revision.toString(),
        position: snapshot.position.toString(),
        eventId: snapshot.eventId,
        format: snapshot.format,
        payload: snapshot.payload,
      };
      // A random id fixed across this call's retries: a retried append that did land is acknowledged, not doubled.
      const event = { id: randomUUID(), type: SNAPSHOT_EVENT_TYPE, contentType: 'application/json' as const, data: { ...data }, metadata: undefined };
      const name = snapshotStreamId(snapshot.streamId);
      const result = await callWithRetry('writeSnapshot', () => client.appendToStream(name, event), policy);
      // From the stream's first snapshot on the server keeps only the newest one; said again now
      // and then, in case the first time failed after the append.
      if (toBigInt(result.nextExpectedRevision) % METADATA_EVERY === 0n) await callWithRetry('snapshotMetadata', () => client.setStreamMetadata(name, { maxCount: 1 }), policy);
    },

    async close() {
      // The client belongs to the container, not to this store.
    },
  };
};
