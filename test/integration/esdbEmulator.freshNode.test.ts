import { randomUUID } from 'node:crypto';
import type {
  EventStoreDBClient} from '@eventstore/db-client';
import {
  BACKWARDS,
  END,
  START,
  jsonEvent,
  persistentSubscriptionToStreamSettingsFromDefaults,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { afterEach, describe, expect, it } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, createEventStoreDBEventSource, createEventStoreDBEventStore } from '#adapters/eventstoredb/index';
import type { DeliveredEvent } from '#ports/eventSource';
import type { NewEvent } from '#ports/eventStore';
import { startEsdbEmulator, type EsdbEmulator, type EsdbEmulatorOptions } from '#test/support/esdb-emulator/index';
import { caught, collect } from '#test/support/waiting';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * A real node's `$all` is never only Chronicle's: it begins with the node's own records and the
 * node keeps adding more (stats every 30 s, subscription configuration). These check that the
 * emulator does the same, and that every reader of `$all` copes with it.
 */

const running: { emulator: EsdbEmulator; client: EventStoreDBClient }[] = [];
const start = async (options: EsdbEmulatorOptions = {}) => {
  const emulator = await startEsdbEmulator(options);
  const client = createEventStoreDBClient(emulator.connectionString);
  running.push({ emulator, client });
  return { emulator, client };
};
afterEach(async () => {
  for (const { emulator, client } of running.splice(0)) {
    await closeEventStoreDBClient(client);
    await emulator.stop();
  }
});


const waitUntil = async (condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition()) && Date.now() < deadline) await sleep(20);
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const newEvent = (type: string): NewEvent => {
  const commandId = randomUUID();
  return { id: randomUUID(), type, data: { at: Date.now() }, metadata: { schemaVersion: 1, $correlationId: commandId, $causationId: commandId, commandId, occurredAt: new Date().toISOString() } };
};

const configEntries = async (client: EventStoreDBClient): Promise<{ group: string; stream: string; extraStatistics: boolean }[]> => {
  const [latest] = await collect(client.readStream('$persistentSubscriptionConfig', { direction: BACKWARDS, fromRevision: END, maxCount: 1 }));
  expect(latest?.event?.type).toBe('$PersistentConfig');
  return (latest?.event?.data as { entries: { group: string; stream: string; extraStatistics: boolean }[] }).entries;
};

describe('the EventStoreDB emulator, like a fresh node', () => {
  it("begins $all with the node's own records: epoch information, then stream metadata", async () => {
    const { client } = await start({ statsPeriodMs: 0 });
    const all = await collect(client.readAll({ fromPosition: START }));
    expect(all.map((resolved) => [resolved.event?.streamId, resolved.event?.type])).toEqual([
      ['$epoch-information', '$epoch-information'],
      ['$$$scavenges', '$metadata'],
      [expect.stringMatching(/^\$\$\$stats-127\.0\.0\.1:\d+$/), '$metadata'],
    ]);
    expect(all[0]?.event?.data).toMatchObject({ epochNumber: 0, prevEpochPosition: -1, leaderInstanceId: expect.any(String) });
    expect(all[1]?.event?.data).toMatchObject({ $maxAge: 2_592_000 });
  });

  it('writes $statsCollected to $stats-<node> every stats period', async () => {
    const { client } = await start({ statsPeriodMs: 20 });
    const statsEvents = async (): Promise<ResolvedEvent[]> => (await collect(client.readAll({ fromPosition: START }))).filter((resolved) => resolved.event?.type === '$statsCollected');
    await waitUntil(async () => (await statsEvents()).length >= 3);
    const stats = await statsEvents();
    expect(stats.length).toBeGreaterThanOrEqual(3);
    expect(stats[0]?.event?.streamId).toMatch(/^\$stats-127\.0\.0\.1:\d+$/);
  });

  it('records the persistent-subscription configuration on every create, update and delete', async () => {
    const { client } = await start({ statsPeriodMs: 0 });
    const stream = `config-${randomUUID()}`;
    await client.createPersistentSubscriptionToStream(stream, 'g1', persistentSubscriptionToStreamSettingsFromDefaults());
    expect(await configEntries(client)).toEqual([expect.objectContaining({ stream, group: 'g1', extraStatistics: false })]);
    await client.createPersistentSubscriptionToAll('g2', persistentSubscriptionToStreamSettingsFromDefaults() as never);
    await client.updatePersistentSubscriptionToStream(stream, 'g1', persistentSubscriptionToStreamSettingsFromDefaults({ extraStatistics: true }));
    expect(await configEntries(client)).toEqual([
      expect.objectContaining({ stream, group: 'g1', extraStatistics: true }),
      expect.objectContaining({ stream: '$all', group: 'g2' }),
    ]);
    await client.deletePersistentSubscriptionToStream(stream, 'g1');
    expect(await configEntries(client)).toEqual([expect.objectContaining({ stream: '$all', group: 'g2' })]);
    const writes = await collect(client.readStream('$persistentSubscriptionConfig'));
    expect(writes).toHaveLength(4);
  });

  it('words its errors as the server does', async () => {
    const { client } = await start({ statsPeriodMs: 0 });
    const stream = `errors-${randomUUID()}`;
    expect(messageOf(await caught(() => client.getPersistentSubscriptionToAllInfo('missing')))).toContain('Subscription group missing on stream $all does not exist.');
    await client.createPersistentSubscriptionToStream(stream, 'g', persistentSubscriptionToStreamSettingsFromDefaults());
    expect(messageOf(await caught(() => client.createPersistentSubscriptionToStream(stream, 'g', persistentSubscriptionToStreamSettingsFromDefaults())))).toContain(
      `Subscription group g on stream ${stream} exists.`,
    );
    await client.appendToStream(stream, jsonEvent({ type: 'A', data: {} }));
    expect(messageOf(await caught(() => client.deleteStream(stream, { expectedRevision: 5n })))).toContain(
      `Delete failed due to WrongExpectedVersion. Stream: ${stream}, Expected version: 5, Actual version: 0`,
    );
    await client.tombstoneStream(stream);
    expect(messageOf(await caught(() => collect(client.readStream(stream))))).toContain(`Event stream '${stream}' is deleted.`);
  });

  it('reports rates, the connection and, with extraStatistics, latency measurements', async () => {
    const { client } = await start({ statsPeriodMs: 0 });
    const stream = `stats-${randomUUID()}`;
    await client.createPersistentSubscriptionToStream(stream, 'measured', persistentSubscriptionToStreamSettingsFromDefaults({ extraStatistics: true }));
    await client.createPersistentSubscriptionToStream(stream, 'plain', persistentSubscriptionToStreamSettingsFromDefaults());
    await client.appendToStream(stream, ['A', 'B', 'C'].map((type) => jsonEvent({ type, data: {} })));
    for (const group of ['measured', 'plain']) {
      const subscription = client.subscribeToPersistentSubscriptionToStream(stream, group);
      let acked = 0;
      for await (const resolved of subscription as AsyncIterable<ResolvedEvent>) {
        await sleep(5);
        await subscription.ack(resolved);
        if (++acked === 3) break;
      }
      await sleep(50);
      const info = await client.getPersistentSubscriptionToStreamInfo(stream, group);
      const [connection] = info.connections;
      expect(info.stats.totalItems).toBe(3n);
      expect(info.stats.countSinceLastMeasurement).toBe(3n);
      expect(connection?.countSinceLastMeasurement).toBe(3n);
      expect(connection?.from).toMatch(/127\.0\.0\.1/);
      expect(connection?.username).toBe('');
      if (group === 'measured') {
        const measured: ReadonlyMap<string, bigint> = connection?.extraStatistics ?? new Map();
        expect([...measured.keys()]).toEqual(
          ['mean', 'median', 'fastest', 'quintile 1', 'quintile 2', 'quintile 3', 'quintile 4', 'quintile 5', '90%', '95%', '99%', '99.5%', '99.9%', '99.99%', '99.999%', 'highest'],
        );
        expect(measured.get('fastest')).toBeGreaterThanOrEqual(0n);
        expect((measured.get('highest') ?? -1n) >= (measured.get('fastest') ?? 0n)).toBe(true);
      } else {
        // The client maps a connection without measurements to no map at all.
        expect(connection?.extraStatistics as unknown).toBeUndefined();
      }
      // Each GetInfo is one measurement: nothing happened since the last one.
      const again = await client.getPersistentSubscriptionToStreamInfo(stream, group);
      expect(again.stats.countSinceLastMeasurement).toBe(0n);
      await subscription.unsubscribe();
    }
  });
});

describe("Chronicle's readers of $all, on a node that writes its own records", () => {
  it('reads nothing and reports no head on a node that holds only system records', async () => {
    const { client } = await start({ statsPeriodMs: 5 });
    await sleep(60);
    const store = createEventStoreDBEventStore(client);
    expect(await store.readAll()).toEqual([]);
    expect(await store.headPosition()).toBeNull();
  });

  it('pages past readAll pages that hold no Chronicle event at all', async () => {
    const { client } = await start({ statsPeriodMs: 5 });
    const store = createEventStoreDBEventStore(client, { readAllPageSize: 2 });
    const prefix = `paged${randomUUID().slice(0, 8)}-`;
    const first = await store.appendToStream(`${prefix}1`, [newEvent('First')], { expectedRevision: 'no_stream' });
    const recordsAfterFirst = async (): Promise<number> =>
      (await collect(client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 100 }))).filter((resolved) => resolved.event!.position!.commit > first.position).length;
    // Several stats records after the first event: pages of two that hold none of Chronicle's.
    await waitUntil(async () => (await recordsAfterFirst()) >= 6);
    const second = await store.appendToStream(`${prefix}2`, [newEvent('Second')], { expectedRevision: 'no_stream' });
    const systemBetween = (await collect(client.readAll({ fromPosition: { commit: first.position, prepare: first.position } }))).filter(
      (resolved) => resolved.event !== undefined && resolved.event.position!.commit < second.position && resolved.event.streamId.startsWith('$'),
    );
    expect(systemBetween.length).toBeGreaterThan(4);
    expect((await store.readAll()).map((event) => event.type)).toEqual(['First', 'Second']);
    expect((await store.readAll({ streamPrefixes: [prefix], fromPosition: first.position + 1n })).map((event) => event.position)).toEqual([second.position]);
  });

  it('keeps the head at the newest Chronicle event however many system records follow it', async () => {
    const { client } = await start({ statsPeriodMs: 1 });
    const store = createEventStoreDBEventStore(client);
    const appended = await store.appendToStream(`head-${randomUUID()}`, [newEvent('Last')], { expectedRevision: 'no_stream' });
    // More than one page of headPosition's backwards scan, and more than it used to look at (32).
    const systemAfter = async (): Promise<number> =>
      (await collect(client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1000 }))).filter((resolved) => resolved.event!.position!.commit > appended.position).length;
    const deadline = Date.now() + 10_000;
    while ((await systemAfter()) <= 300 && Date.now() < deadline) await sleep(50);
    expect(await systemAfter()).toBeGreaterThan(300);
    expect(await store.headPosition()).toBe(appended.position);
    // Later calls only scan what is new.
    await sleep(50);
    expect(await store.headPosition()).toBe(appended.position);
    const next = await store.appendToStream(`head-${randomUUID()}`, [newEvent('Newer')], { expectedRevision: 'no_stream' });
    expect(await store.headPosition()).toBe(next.position);
  });

  it("feeds the projector's persistent subscription only Chronicle's events while the node writes its own", async () => {
    const { client } = await start({ statsPeriodMs: 5 });
    const prefix = `fed${randomUUID().slice(0, 8)}-`;
    const store = createEventStoreDBEventStore(client);
    const source = createEventStoreDBEventSource(client, {
      groupName: `projector-${randomUUID()}`,
      bufferSize: 10,
      readBatchSize: 5,
      checkpointAfterMs: 50,
      maxRetryCount: 3,
      messageTimeoutMs: 5_000,
      streamPrefixes: [prefix],
    });
    await store.appendToStream(`${prefix}a`, [newEvent('A1')], { expectedRevision: 'no_stream' });
    const subscription = await source.subscribe({ afterPosition: null });
    await sleep(40);
    await store.appendToStream(`${prefix}b`, [newEvent('B1')], { expectedRevision: 'no_stream' });
    await store.appendToStream(`${prefix}a`, [newEvent('A2')], { expectedRevision: 0n });
    const received: DeliveredEvent[] = [];
    for await (const delivered of subscription) {
      received.push(delivered);
      await subscription.ack([delivered]);
      if (received.length === 3) break;
    }
    await subscription.close();
    expect(received.map((delivered) => delivered.event.type)).toEqual(['A1', 'B1', 'A2']);
    // The group's creation was recorded by the node, among its other records.
    expect((await configEntries(client)).map((entry) => entry.stream)).toEqual(['$all']);
  });
});
