import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEEPALIVE_DEFAULTS,
  closeEventStoreDBClient,
  createEventStoreDBClient,
  createEventStoreDBEventStore,
  withConnectionDefaults,
} from '#adapters/eventstoredb/index';
import { isUnavailableError } from '#domain/errors';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';

describe('the EventStoreDB connection string', () => {
  it('gets the keepalive defaults when it sets none', () => {
    expect(withConnectionDefaults('esdb://db.internal:2113')).toBe(
      `esdb://db.internal:2113?keepAliveInterval=${KEEPALIVE_DEFAULTS.keepAliveInterval}&keepAliveTimeout=${KEEPALIVE_DEFAULTS.keepAliveTimeout}`,
    );
    expect(withConnectionDefaults('esdb://localhost:2113?tls=false')).toBe(
      `esdb://localhost:2113?tls=false&keepAliveInterval=${KEEPALIVE_DEFAULTS.keepAliveInterval}&keepAliveTimeout=${KEEPALIVE_DEFAULTS.keepAliveTimeout}`,
    );
  });

  it('keeps the keepalive settings it sets, however they are spelled', () => {
    expect(withConnectionDefaults('esdb://localhost:2113?KeepAliveInterval=20000&keep_alive_timeout=7000')).toBe(
      'esdb://localhost:2113?KeepAliveInterval=20000&keep_alive_timeout=7000',
    );
    expect(withConnectionDefaults('esdb://localhost:2113?keepAliveTimeout=7000')).toBe(
      `esdb://localhost:2113?keepAliveTimeout=7000&keepAliveInterval=${KEEPALIVE_DEFAULTS.keepAliveInterval}`,
    );
  });

  it('reads the KurrentDB protocol names as esdb', () => {
    expect(withConnectionDefaults('kurrentdb+discover://a:2113,b:2113?keepAliveInterval=1&keepAliveTimeout=1')).toBe(
      'esdb+discover://a:2113,b:2113?keepAliveInterval=1&keepAliveTimeout=1',
    );
    expect(withConnectionDefaults('kdb://a:2113?keepAliveInterval=1&keepAliveTimeout=1')).toBe('esdb://a:2113?keepAliveInterval=1&keepAliveTimeout=1');
  });

  it('accepts a cluster without connecting to it', async () => {
    const client = createEventStoreDBClient('esdb+discover://node1.example:2113,node2.example:2113,node3.example:2113?nodePreference=leader');
    await closeEventStoreDBClient(client);
  });

  it('rejects a string the client cannot parse, naming the problem', () => {
    expect(() => createEventStoreDBClient('http://localhost:2113')).toThrow(/esdb:\/\//);
  });
});

describe('an EventStoreDB client', () => {
  let emulator: EsdbEmulator;

  beforeAll(async () => {
    emulator = await startEsdbEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('talks to a node named with a kurrentdb:// string', async () => {
    const client = createEventStoreDBClient(emulator.connectionString.replace('esdb://', 'kurrentdb://'));
    const store = createEventStoreDBEventStore(client);
    expect(await store.readStream(`client-${randomUUID()}`)).toEqual([]);
    await closeEventStoreDBClient(client);
  });

  it('uses TLS unless the string says tls=false (so a plaintext node is unreachable)', async () => {
    const client = createEventStoreDBClient(emulator.connectionString.replace('?tls=false', ''));
    const store = createEventStoreDBEventStore(client, { retry: { baseDelayMs: 10, maxDelayMs: 50, maxElapsedMs: 500, maxAttempts: 3 }, attemptTimeoutMs: 2_000 });
    const error = await store.readStream(`client-${randomUUID()}`).catch((e: unknown) => e);
    expect(isUnavailableError(error)).toBe(true);
    await closeEventStoreDBClient(client);
  });
});
