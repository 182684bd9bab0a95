import { afterAll, beforeAll } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, createEventStoreDBSnapshotStore, type EventStoreDBClient } from '#adapters/eventstoredb/index';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { describeSnapshotStoreContract } from './snapshotStore.contract.ts';

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

describeSnapshotStoreContract('EventStoreDB snapshot streams (emulator)', async () => ({
  store: createEventStoreDBSnapshotStore(client),
  teardown: async () => undefined,
}));
