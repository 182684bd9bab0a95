export { KEEPALIVE_DEFAULTS, closeEventStoreDBClient, createEventStoreDBClient, withConnectionDefaults, type EventStoreDBClient } from './eventStoreDBClient.ts';
export { createEventStoreDBEventStore, type EventStoreDBEventStoreOptions } from './eventStoreDBEventStore.ts';
export {
  DEFAULT_STREAM_PREFIXES,
  createEventStoreDBEventSource,
  persistentSubscriptionSettings,
  type EventStoreDBEventSourceSettings,
  type PersistentGroupSettings,
} from './eventStoreDBEventSource.ts';
export { createEventStoreDBParkedEvents, parkedStreamName, type EventStoreDBParkedEventsSettings } from './eventStoreDBParkedEvents.ts';
export { DEFAULT_ATTEMPT_TIMEOUT_MS, DEFAULT_RETRY_POLICY, isTransientEsdbError, type RetryListener } from './esdbRetry.ts';
export { createEventStoreDBSnapshotStore, snapshotStreamId } from './eventStoreDBSnapshotStore.ts';
