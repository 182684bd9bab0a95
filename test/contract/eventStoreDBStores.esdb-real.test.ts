import { afterAll, beforeAll, describe } from 'vitest';
import { createEventStoreDBDataKeyStore } from '#adapters/eventstoredb/eventStoreDBDataKeyStore';
import {
  closeEventStoreDBClient,
  createEventStoreDBClient,
  createEventStoreDBEventStore,
  createEventStoreDBSnapshotStore,
  type EventStoreDBClient,
} from '#adapters/eventstoredb/index';
import { describeDataKeyStoreContract } from './dataKeyStore.contract.ts';
import { describeEventStoreContract } from './eventStore.contract.ts';
import { describeSnapshotStoreContract } from './snapshotStore.contract.ts';

const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];

describe.skipIf(!connectionString)('against the EventStoreDB at EVENTSTORE_CONNECTION_STRING', () => {
  let client: EventStoreDBClient;

  beforeAll(() => {
    client = createEventStoreDBClient(connectionString ?? '');
  });

  afterAll(async () => {
    await closeEventStoreDBClient(client);
  });

  describeEventStoreContract('EventStoreDB (real server)', async () => ({
    store: createEventStoreDBEventStore(client),
    teardown: async () => undefined,
  }));

  // The stores kept in EventStoreDB beside the log. A real server's files are not inspected
  // here (its scavenge runs on its own schedule), so the key store's storage checks are skipped.
  describeDataKeyStoreContract('EventStoreDB key streams (real server)', async (wrapper) => ({
    store: createEventStoreDBDataKeyStore(client, { wrapper }),
    teardown: async () => undefined,
  }));

  describeSnapshotStoreContract('EventStoreDB snapshot streams (real server)', async () => ({
    store: createEventStoreDBSnapshotStore(client),
    teardown: async () => undefined,
  }));
});
