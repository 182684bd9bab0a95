import { afterAll, beforeAll, describe } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, createEventStoreDBEventStore, type EventStoreDBClient } from '#adapters/eventstoredb/index';
import { describeEventStoreContract } from './eventStore.contract.ts';

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
});
