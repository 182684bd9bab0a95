import { afterAll, beforeAll, describe } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, type EventStoreDBClient } from '#adapters/eventstoredb/index';
import { describeEventSourceContract } from './eventSource.contract.ts';
import { contractSourceSettings, esdbEventSourceFixture } from './esdbEventSourceFixture.ts';

const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];

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
    const settings = contractSourceSettings();
    groups.push(settings.groupName);
    return esdbEventSourceFixture(client, settings);
  });
});
