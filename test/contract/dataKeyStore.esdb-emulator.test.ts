import { afterAll, beforeAll } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, type EventStoreDBClient } from '#adapters/eventstoredb/index';
import { createEventStoreDBDataKeyStore } from '#adapters/eventstoredb/eventStoreDBDataKeyStore';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { describeDataKeyStoreContract } from './dataKeyStore.contract.ts';

let emulator: EsdbEmulator;
let client: EventStoreDBClient;

beforeAll(async () => {
  emulator = await startEsdbEmulator();
  client = createEventStoreDBClient(emulator.connectionString);
});

afterAll(async () => {
  await closeEventStoreDBClient(client);
  await emulator.stop();
});

// A tombstone hides the key stream at once; its bytes leave the database at the next scavenge,
// which production runs on a schedule (README § Personal data), and which the check runs first.
describeDataKeyStoreContract('EventStoreDB key streams (emulator)', async (wrapper) => ({
  store: createEventStoreDBDataKeyStore(client, { wrapper }),
  storageHolds: async (needle) => {
    emulator.scavenge();
    // The key stream holds the wrapped key as base64 in JSON.
    return emulator.holdsBytes(needle) || emulator.holdsBytes(Buffer.from(Buffer.from(needle).toString('base64')));
  },
  teardown: async () => undefined,
}));
