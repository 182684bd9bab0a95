import { afterAll, beforeAll } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, createEventStoreDBEventStore, type EventStoreDBClient } from '#adapters/eventstoredb/index';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { describeEventStoreContract } from './eventStore.contract.ts';

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

describeEventStoreContract('EventStoreDB (emulator)', async () => ({
  store: createEventStoreDBEventStore(client),
  teardown: async () => undefined,
}));
