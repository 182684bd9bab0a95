import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, createEventStoreDBEventStore, type EventStoreDBClient } from '#adapters/eventstoredb/index';
import { isConcurrencyError, isUnavailableError } from '#domain/errors';
import type { EventStore, NewEvent } from '#ports/eventStore';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';

/*
 * Short keepalive so that a silently dead connection is noticed in about two seconds; the
 * production defaults (10 s / 5 s) behave the same, only slower.
 */
const FAST_KEEPALIVE = 'keepAliveInterval=1000&keepAliveTimeout=1000';
const RETRY = { baseDelayMs: 20, maxDelayMs: 200, maxElapsedMs: 8_000, maxAttempts: 20 };

const newEvent = (n: number): NewEvent => ({
  id: randomUUID(),
  type: 'SomethingHappened',
  data: { n },
  metadata: { schemaVersion: 1, $correlationId: randomUUID(), $causationId: randomUUID(), commandId: randomUUID(), occurredAt: '2024-05-01T12:00:00.000Z' },
});

describe('EventStoreDB adapter under faults', () => {
  let emulator: EsdbEmulator;
  let client: EventStoreDBClient;
  let store: EventStore;
  const retried: string[] = [];

  beforeAll(async () => {
    emulator = await startEsdbEmulator();
    client = createEventStoreDBClient(`${emulator.connectionString}&${FAST_KEEPALIVE}`);
    store = createEventStoreDBEventStore(client, { retry: RETRY, attemptTimeoutMs: 4_000, onRetry: (operation) => retried.push(operation) });
  });
  afterEach(() => {
    emulator.faults.reset();
    retried.length = 0;
  });
  afterAll(async () => {
    await closeEventStoreDBClient(client);
    await emulator.stop();
  });

  /** Several writers, each appending one event at a time to its own stream at the exact expected revision. */
  const runWriters = async (writers: number, eventsPerWriter: number, midway: () => Promise<void>) => {
    const streams = Array.from({ length: writers }, () => `faults-${randomUUID()}`);
    const written = new Map(streams.map((streamId) => [streamId, [] as string[]]));
    let appended = 0;
    let fired = false;
    await Promise.all(
      streams.map(async (streamId) => {
        for (let n = 0; n < eventsPerWriter; n++) {
          const event = newEvent(n);
          await store.appendToStream(streamId, [event], { expectedRevision: n === 0 ? 'no_stream' : BigInt(n - 1) });
          written.get(streamId)!.push(event.id);
          appended += 1;
          if (!fired && appended >= (writers * eventsPerWriter) / 2) {
            fired = true;
            await midway();
          }
        }
      }),
    );
    return written;
  };

  const expectExactly = async (written: Map<string, string[]>) => {
    for (const [streamId, ids] of written) {
      const stored = await store.readStream(streamId);
      expect(stored.map((event) => event.id)).toEqual(ids);
      expect(stored.map((event) => event.revision)).toEqual(ids.map((_, n) => BigInt(n)));
    }
  };

  describe.each([
    { drop: 'silently (no FIN, no reset)', options: { graceful: false } },
    { drop: 'with a TCP reset', options: { graceful: false, reset: true } },
    { drop: 'gracefully', options: { graceful: true } },
  ])('when connections drop $drop in the middle of a run of appends', ({ options }) => {
    it('retries every interrupted append to success, losing and duplicating nothing', async () => {
      const written = await runWriters(5, 12, () => emulator.faults.dropConnections(options));
      await expectExactly(written);
      expect(retried).toContain('appendToStream');
    });
  });

  describe('when appends fail UNAVAILABLE', () => {
    it('succeeds after two failed attempts and stores the events once', async () => {
      const streamId = `faults-${randomUUID()}`;
      const events = [newEvent(0), newEvent(1)];
      emulator.faults.failNext('append', 2, status.UNAVAILABLE);
      const result = await store.appendToStream(streamId, events, { expectedRevision: 'no_stream' });
      expect(result.nextRevision).toBe(1n);
      expect(retried).toEqual(['appendToStream', 'appendToStream']);
      expect((await store.readStream(streamId)).map((event) => event.id)).toEqual(events.map((event) => event.id));
    });

    it('gives up after its bound with an UnavailableError', async () => {
      const bounded = createEventStoreDBEventStore(client, { retry: { baseDelayMs: 10, maxDelayMs: 20, maxElapsedMs: 2_000, maxAttempts: 3 } });
      emulator.faults.failNext('append', 3, status.UNAVAILABLE);
      const error = await bounded.appendToStream(`faults-${randomUUID()}`, [newEvent(0)], { expectedRevision: 'no_stream' }).catch((e: unknown) => e);
      expect(isUnavailableError(error)).toBe(true);
    });
  });

  describe('when reads fail DEADLINE_EXCEEDED', () => {
    it('reads after a retry', async () => {
      const streamId = `faults-${randomUUID()}`;
      await store.appendToStream(streamId, [newEvent(0)], { expectedRevision: 'no_stream' });
      emulator.faults.failNext('read', 1, status.DEADLINE_EXCEEDED);
      expect(await store.readStream(streamId)).toHaveLength(1);
    });
  });

  describe('a server that refuses to read $all from a position that is no record start', () => {
    it('pages on from the record before it, still answering only positions at or above the one asked for', async () => {
      const prefix = `faults${randomUUID().slice(0, 8)}-`;
      const streamId = `${prefix}${randomUUID()}`;
      await store.appendToStream(streamId, [newEvent(0), newEvent(1), newEvent(2)], { expectedRevision: 'no_stream' });
      const [first, second, third] = await store.readStream(streamId);
      // A real server answers an Unknown status ("invalid position") for last position + 1.
      emulator.faults.failNext('read', 1, status.UNKNOWN);
      const page = await store.readAll({ fromPosition: first!.position + 1n, streamPrefixes: [prefix] });
      expect(page.map((event) => event.id)).toEqual([second!.id, third!.id]);
    });
  });

  describe('a non-transient failure', () => {
    it('is not retried: the append fails once and writes nothing', async () => {
      const streamId = `faults-${randomUUID()}`;
      emulator.faults.failNext('append', 1, status.INVALID_ARGUMENT);
      const error = await store.appendToStream(streamId, [newEvent(0)], { expectedRevision: 'no_stream' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(isUnavailableError(error)).toBe(false);
      expect(retried).toEqual([]);
      expect(await store.readStream(streamId)).toEqual([]);
      // The fault was used up by that one attempt: had it been retried, the append would have succeeded.
      await store.appendToStream(streamId, [newEvent(0)], { expectedRevision: 'no_stream' });
    });

    it('is not retried for a read either', async () => {
      emulator.faults.failNext('read', 1, status.PERMISSION_DENIED);
      const error = await store.readStream(`faults-${randomUUID()}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(isUnavailableError(error)).toBe(false);
    });

    it('keeps a concurrency conflict a conflict, never retried into success', async () => {
      const streamId = `faults-${randomUUID()}`;
      await store.appendToStream(streamId, [newEvent(0)], { expectedRevision: 'no_stream' });
      const error = await store.appendToStream(streamId, [newEvent(1)], { expectedRevision: 'no_stream' }).catch((e: unknown) => e);
      expect(isConcurrencyError(error)).toBe(true);
    });
  });
});
