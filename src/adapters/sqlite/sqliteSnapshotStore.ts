import type { Snapshot, SnapshotStore } from '#ports/snapshotStore';
import { openSqliteDatabase, translatingSqliteErrors } from './sqliteDatabase.ts';

export interface SqliteSnapshotStoreOptions {
  /**
   * Its own file (DATA_DIR/snapshots.sqlite): a snapshot write never queues for the event log's
   * write lock, so it cannot hold up another command's append.
   */
  readonly path: string;
  readonly busyTimeoutMs?: number;
}

// One row per stream, replaced by each write. Payloads are sealed by the application, so the
// bytes an overwrite leaves in free pages are unreadable once the user's key is destroyed.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS snapshots (
    stream_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    position INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    format TEXT NOT NULL,
    payload TEXT NOT NULL
  );
`;

type Row = [string, bigint, bigint, string, string, string];

/** Snapshots in a SQLite file of their own (the embedded default). */
export const createSqliteSnapshotStore = (options: SqliteSnapshotStoreOptions): SnapshotStore => {
  const db = openSqliteDatabase(options.path, { busyTimeoutMs: options.busyTimeoutMs ?? 5_000 });
  db.exec(SCHEMA);
  const select = db.prepare<[string], Row>('SELECT stream_id, revision, position, event_id, format, payload FROM snapshots WHERE stream_id = ?').raw().safeIntegers();
  const upsert = db.prepare<[string, bigint, bigint, string, string, string]>(
    `INSERT INTO snapshots (stream_id, revision, position, event_id, format, payload) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, position = excluded.position,
       event_id = excluded.event_id, format = excluded.format, payload = excluded.payload`,
  );


  return {
    async read(streamId) {
      const row = translatingSqliteErrors(() => select.get(streamId));
      if (row === undefined) return null;
      const [stream, revision, position, eventId, format, payload] = row;
      return { streamId: stream, revision, position, eventId, format, payload } satisfies Snapshot;
    },
    async write(snapshot) {
      translatingSqliteErrors(() => upsert.run(snapshot.streamId, snapshot.revision, snapshot.position, snapshot.eventId, snapshot.format, snapshot.payload));
    },
    async close() {
      if (db.open) db.close();
    },
  };
};
