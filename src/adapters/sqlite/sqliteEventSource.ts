import type { EventSource, EventSubscription } from '#ports/eventSource';
import type { StoredEvent } from '#ports/eventStore';
import { createPollingSubscription, type PollingFeed } from '#adapters/polling/pollingSubscription';
import { openSqliteDatabase, translatingSqliteErrors } from './sqliteDatabase.ts';
import { EVENT_COLUMNS, eventFromRow, prefixParameters, streamPrefixCondition } from './sqliteEventStore.ts';
import { migrateParkedEventsSchema, PARKED_EVENT_SELECT } from './sqliteParkedEvents.ts';

export interface SqliteEventSourceOptions {
  readonly path: string;
  /** How often to look for new events (and replays) once caught up. */
  readonly pollIntervalMs: number;
  /** A retried event is parked once it has been retried this often. */
  readonly maxRetryCount: number;
  /** Default ['user-']: the projector reads user streams only. */
  readonly streamPrefixes?: readonly string[];
  /** Events read ahead at a time (default 1000): the bound on what the source holds in memory. */
  readonly pageSize?: number;
}

/**
 * The projector's feed from the SQLite events file: a polling catch-up subscription that
 * resumes after the reader's checkpoint (it keeps none of its own). Parked events go to the
 * parked_events table of the same file, where the parked-events CLI can list and replay them.
 */
export const createSqliteEventSource = (options: SqliteEventSourceOptions): EventSource & { close(): Promise<void> } => {
  const db = openSqliteDatabase(options.path);
  migrateParkedEventsSchema(db);
  const prefixes = options.streamPrefixes ?? ['user-'];
  const pageSize = options.pageSize ?? 1000;

  const pageAfter = db
    .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND ${streamPrefixCondition(prefixes.length)} ORDER BY position LIMIT ?`)
    .raw()
    .safeIntegers();
  const head = db.prepare('SELECT MAX(position) FROM events').pluck().safeIntegers();
  // Page and head from one snapshot: a short page means everything up to the head was looked at.
  const readPage = db.transaction((after: bigint, limit: number) => {
    const events = (pageAfter.all(after, ...prefixParameters(prefixes), limit) as unknown[][]).map(eventFromRow);
    const last = events[events.length - 1]?.position ?? after;
    if (events.length === limit) return { events, scannedUpTo: last };
    const newest = (head.get() as bigint | null) ?? after;
    return { events, scannedUpTo: newest > last ? newest : last };
  });
  const replaysDue = db
    .prepare(`${PARKED_EVENT_SELECT} WHERE replay_requested_at IS NOT NULL ORDER BY position LIMIT ?`)
    .raw()
    .safeIntegers();
  const deleteReplayed = db.prepare('DELETE FROM parked_events WHERE position = ? AND replay_requested_at IS NOT NULL');
  const upsertParked = db.prepare(
    `INSERT INTO parked_events (position, reason, parked_at, replay_requested_at) VALUES (?, ?, ?, NULL)
     ON CONFLICT (position) DO UPDATE SET reason = excluded.reason, parked_at = excluded.parked_at, replay_requested_at = NULL`,
  );


  const feed: PollingFeed = {
    async readPage(after, limit) {
      return translatingSqliteErrors(() => readPage(after, limit));
    },
    async pendingReplays(exclude) {
      return translatingSqliteErrors(() =>
        (replaysDue.all(pageSize + exclude.size) as unknown[][]).map(eventFromRow).filter((event) => !exclude.has(event.position)),
      );
    },
    async replaySettled(event: StoredEvent) {
      translatingSqliteErrors(() => deleteReplayed.run(event.position));
    },
    async park(event, reason) {
      translatingSqliteErrors(() => upsertParked.run(event.position, reason, Date.now()));
    },
  };

  const subscriptions = new Set<EventSubscription>();

  return {
    async subscribe({ afterPosition }) {
      const subscription = createPollingSubscription(
        feed,
        { pollIntervalMs: options.pollIntervalMs, maxRetryCount: options.maxRetryCount, pageSize },
        afterPosition,
        () => subscriptions.delete(subscription),
      );
      subscriptions.add(subscription);
      return subscription;
    },

    async close() {
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      subscriptions.clear();
      if (db.open) db.close();
    },
  };
};
