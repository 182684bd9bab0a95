import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEEPALIVE_DEFAULTS, closeEventStoreDBClient, createEventStoreDBClient, createEventStoreDBEventStore, type EventStoreDBClient } from '#adapters/eventstoredb/index';
import type { NewEvent } from '#ports/eventStore';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * grpc-node #2285: a Lambda container is frozen between invocations; the connection its client
 * holds dies meanwhile (the peer or a NAT forgets it) without the client hearing a thing. The
 * emulator's silent drop is exactly that: the socket stays open and nothing ever answers.
 * The first request after the thaw must still succeed, within a bound.
 */
const newEvent = (): NewEvent => ({
  id: randomUUID(),
  type: 'SomethingHappened',
  data: {},
  metadata: { schemaVersion: 1, $correlationId: randomUUID(), $causationId: randomUUID(), commandId: randomUUID(), occurredAt: '2024-05-01T12:00:00.000Z' },
});


const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const startedAt = performance.now();
  const value = await run();
  return { value, ms: performance.now() - startedAt };
};

describe('a client whose connection died while the Lambda was frozen', () => {
  let emulator: EsdbEmulator;
  let client: EventStoreDBClient | undefined;

  beforeEach(async () => {
    emulator = await startEsdbEmulator();
  });
  afterEach(async () => {
    if (client) await closeEventStoreDBClient(client);
    client = undefined;
    await emulator.stop();
  });

  const thawAfterSilentDrop = async (keepAlive: { keepAliveInterval: number; keepAliveTimeout: number }, warmUp: 'append' | 'read') => {
    client = createEventStoreDBClient(`${emulator.connectionString}&keepAliveInterval=${keepAlive.keepAliveInterval}&keepAliveTimeout=${keepAlive.keepAliveTimeout}`);
    const retried: string[] = [];
    const store = createEventStoreDBEventStore(client, { onRetry: (operation) => retried.push(operation) });
    const streamId = `thaw-${randomUUID()}`;
    if (warmUp === 'append') await store.appendToStream(streamId, [newEvent()], { expectedRevision: 'no_stream' });
    else await store.readStream(streamId);
    // Idle past the keepalive interval, as a container between invocations is.
    await sleep(keepAlive.keepAliveInterval + 200);
    await emulator.faults.dropConnections({ graceful: false });
    return { store, streamId, retried };
  };

  it('answers the first read after the thaw within the keepalive timeout and a retry', async () => {
    const keepAlive = { keepAliveInterval: 1_000, keepAliveTimeout: 1_000 };
    const { store, streamId, retried } = await thawAfterSilentDrop(keepAlive, 'read');
    const { value, ms } = await timed(() => store.readStream(streamId));
    expect(value).toEqual([]);
    expect(retried).toEqual(['readStream']);
    expect(ms).toBeLessThan(keepAlive.keepAliveTimeout + 2_000);
  });

  it('appends exactly once on the first request after the thaw', async () => {
    const keepAlive = { keepAliveInterval: 1_000, keepAliveTimeout: 1_000 };
    const { store, streamId, retried } = await thawAfterSilentDrop(keepAlive, 'append');
    const event = newEvent();
    const { value, ms } = await timed(() => store.appendToStream(streamId, [event], { expectedRevision: 0n }));
    expect(value.nextRevision).toBe(1n);
    expect(retried).toContain('appendToStream');
    expect(ms).toBeLessThan(keepAlive.keepAliveInterval + keepAlive.keepAliveTimeout + 2_000);
    expect((await store.readStream(streamId)).map((stored) => stored.id).at(-1)).toBe(event.id);
  });

  it('recovers within the production keepalive defaults too', { timeout: 40_000 }, async () => {
    const { store, streamId, retried } = await thawAfterSilentDrop(KEEPALIVE_DEFAULTS, 'read');
    const { value, ms } = await timed(() => store.readStream(streamId));
    expect(value).toEqual([]);
    expect(retried).toEqual(['readStream']);
    expect(ms).toBeLessThan(KEEPALIVE_DEFAULTS.keepAliveTimeout + 2_000);
  });
});
