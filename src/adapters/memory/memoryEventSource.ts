import type { EventSource, EventSubscription, ParkedEvent, ParkedEvents } from '#ports/eventSource';
import { byPosition, type EventStore, type StoredEvent } from '#ports/eventStore';
import { createPollingSubscription, type PollingFeed } from '#adapters/polling/pollingSubscription';

export interface MemoryEventSourceOptions {
  /** A retried event is parked once it has been retried this often. */
  readonly maxRetryCount: number;
  /** Default 5 ms: tests should not wait for new events. */
  readonly pollIntervalMs?: number;
  /** Default ['user-'], like the projector's filter. */
  readonly streamPrefixes?: readonly string[];
  readonly pageSize?: number;
}

interface ParkedEntry {
  readonly event: StoredEvent;
  readonly reason: string;
  readonly parkedAt: Date;
  readonly replaying: boolean;
}

const byParkTime = (a: ParkedEntry, b: ParkedEntry): number =>
  a.parkedAt.getTime() - b.parkedAt.getTime() || (a.event.position < b.event.position ? -1 : a.event.position > b.event.position ? 1 : 0);

/**
 * The projector's feed over any EventStore (normally the memory one), for unit tests: a polling
 * catch-up source with the SQLite source's delivery, retry and parking rules, and its parked
 * events kept in memory.
 */
export const createMemoryEventSource = (
  store: EventStore,
  options: MemoryEventSourceOptions,
): EventSource & ParkedEvents & { close(): Promise<void> } => {
  const streamPrefixes = options.streamPrefixes ?? ['user-'];
  const parked = new Map<bigint, ParkedEntry>();
  const subscriptions = new Set<EventSubscription>();

  const feed: PollingFeed = {
    async readPage(after, limit) {
      // The head is taken first: everything up to it is visible to the read that follows.
      const head = (await store.headPosition()) ?? after;
      const events = await store.readAll({ fromPosition: after + 1n, maxCount: limit, streamPrefixes });
      const last = events[events.length - 1]?.position ?? after;
      return { events, scannedUpTo: events.length === limit || last > head ? last : head };
    },
    async pendingReplays(exclude) {
      return [...parked.values()]
        .filter((entry) => entry.replaying && !exclude.has(entry.event.position))
        .map((entry) => entry.event)
        .sort(byPosition);
    },
    async replaySettled(event) {
      if (parked.get(event.position)?.replaying) parked.delete(event.position);
    },
    async park(event, reason) {
      parked.set(event.position, { event, reason, parkedAt: new Date(), replaying: false });
    },
  };

  return {
    async subscribe({ afterPosition }) {
      const subscription = createPollingSubscription(
        feed,
        { pollIntervalMs: options.pollIntervalMs ?? 5, maxRetryCount: options.maxRetryCount, pageSize: options.pageSize ?? 1000 },
        afterPosition,
        () => subscriptions.delete(subscription),
      );
      subscriptions.add(subscription);
      return subscription;
    },

    async list({ maxCount } = {}): Promise<ParkedEvent[]> {
      return [...parked.values()]
        .filter((entry) => !entry.replaying)
        .sort(byParkTime)
        .slice(0, maxCount)
        .map(({ event, reason, parkedAt }) => ({ event, reason, parkedAt }));
    },

    async replay() {
      let count = 0;
      for (const [position, entry] of parked)
        if (!entry.replaying) {
          parked.set(position, { ...entry, replaying: true });
          count++;
        }
      return count;
    },

    async close() {
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      subscriptions.clear();
    },
  };
};
