import { randomUUID } from 'node:crypto';
import {
  createEventStoreDBEventSource,
  createEventStoreDBEventStore,
  createEventStoreDBParkedEvents,
  type EventStoreDBClient,
  type EventStoreDBEventSourceSettings,
} from '#adapters/eventstoredb/index';

export const CONTRACT_MAX_RETRY_COUNT = 2;

/** Group settings for the contract: small buffers and quick checkpoints, the same on the emulator and a real server. */
export const contractSourceSettings = (overrides: Partial<EventStoreDBEventSourceSettings> = {}): EventStoreDBEventSourceSettings => ({
  groupName: `chronicle-contract-${randomUUID()}`,
  bufferSize: 20,
  readBatchSize: 10,
  checkpointAfterMs: 100,
  maxRetryCount: CONTRACT_MAX_RETRY_COUNT,
  messageTimeoutMs: 10_000,
  ...overrides,
});

/** One fresh persistent-subscription group per contract case, so the emulator and real-server targets cannot drift apart. */
export const esdbEventSourceFixture = (client: EventStoreDBClient, settings: EventStoreDBEventSourceSettings) => ({
  store: createEventStoreDBEventStore(client),
  source: createEventStoreDBEventSource(client, settings),
  parked: createEventStoreDBParkedEvents(client, { groupName: settings.groupName }),
  maxRetryCount: settings.maxRetryCount,
  teardown: async () => undefined,
});
