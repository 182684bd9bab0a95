import type { ParkedEvent, ParkedEvents } from '#ports/eventSource';
import { openSqliteDatabase, translatingSqliteErrors, type SqliteDatabase } from './sqliteDatabase.ts';
import { EVENT_COLUMNS, eventFromRow, migrateEventsSchema } from './sqliteEventStore.ts';

/**
 * Parked events live beside the log in the events file. A row is either parked (replay not
 * asked) or waiting for replay: replay() only marks rows, because the source that delivers
 * them may run in another process; that source takes marked rows on its next poll and deletes
 * each once it is acked.
 */
export const migrateParkedEventsSchema = (db: SqliteDatabase): void => {
  migrateEventsSchema(db);
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS parked_events (
        position            INTEGER PRIMARY KEY REFERENCES events (position),
        reason              TEXT    NOT NULL,
        parked_at           INTEGER NOT NULL,
        replay_requested_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS parked_events_by_replay ON parked_events (replay_requested_at) WHERE replay_requested_at IS NOT NULL;`);
  }).immediate();
};

/** Parked rows joined with their events; the event columns come first, as eventFromRow reads them. */
export const PARKED_EVENT_SELECT = `SELECT ${EVENT_COLUMNS}, reason, parked_at FROM parked_events JOIN events USING (position)`;

export const createSqliteParkedEvents = (options: { readonly path: string }): ParkedEvents & { close(): Promise<void> } => {
  const db = openSqliteDatabase(options.path);
  migrateParkedEventsSchema(db);

  const listParked = db
    .prepare(`${PARKED_EVENT_SELECT} WHERE replay_requested_at IS NULL ORDER BY parked_at, position LIMIT ?`)
    .raw()
    .safeIntegers();
  const requestReplay = db.prepare('UPDATE parked_events SET replay_requested_at = ? WHERE replay_requested_at IS NULL');


  return {
    async list({ maxCount } = {}): Promise<ParkedEvent[]> {
      return translatingSqliteErrors(() =>
        (listParked.all(maxCount ?? -1) as unknown[][]).map((row) => ({
          event: eventFromRow(row),
          reason: row[8] as string,
          parkedAt: new Date(Number(row[9] as bigint)),
        })),
      );
    },

    async replay() {
      return translatingSqliteErrors(() => requestReplay.run(Date.now()).changes);
    },

    async close() {
      if (db.open) db.close();
    },
  };
};
