import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import {
  closeEventStoreDBClient,
  createEventStoreDBClient,
  createEventStoreDBEventSource,
  createEventStoreDBEventStore,
  createEventStoreDBParkedEvents,
  type EventStoreDBClient,
} from '#adapters/eventstoredb/index';
import { describeEventSourceContract } from './eventSource.contract.ts';

const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];
const MAX_RETRY_COUNT = 2;

describe.skipIf(!connectionString)('against the EventStoreDB at EVENTSTORE_CONNECTION_STRING', () => {
  let client: EventStoreDBClient;
  const groups: string[] = [];

  beforeAll(() => {
    client = createEventStoreDBClient(connectionString ?? '');
  });

  afterAll(async () => {
    // Each test made a group of its own; leave the server as we found it.
    for (const group of groups) await client.deletePersistentSubscriptionToAll(group).catch(() => undefined);
    await closeEventStoreDBClient(client);
  });

  describeEventSourceContract('EventStoreDB (real server)', async () => {
    const groupName = `chronicle-contract-${randomUUID()}`;
    groups.push(groupName);
    return {
      store: createEventStoreDBEventStore(client),
      source: createEventStoreDBEventSource(client, {
        groupName,
        bufferSize: 20,
        readBatchSize: 10,
        checkpointAfterMs: 100,
        maxRetryCount: MAX_RETRY_COUNT,
        messageTimeoutMs: 10_000,
      }),
      parked: createEventStoreDBParkedEvents(client, { groupName }),
      maxRetryCount: MAX_RETRY_COUNT,
      teardown: async () => undefined,
    };
  });
});
