import { checkAppend, type StoredPlace } from '#adapters/shared/checkAppend';
import { UnavailableError, ValidationError } from '#domain/errors';
import type { JsonObject } from '#domain/upcasters';
import type { AppendResult, EventStore, ExpectedRevision, NewEvent, StoredEvent } from '#ports/eventStore';
import { openSqliteDatabase, translateSqliteError, translatingSqliteErrors, type SqliteDatabase, type SqliteStatement } from './sqliteDatabase.ts';

/**
 * The event log in one SQLite file (the embedded default). The position is the table's
 * AUTOINCREMENT key, so it only grows; appends run in BEGIN IMMEDIATE transactions, so the
 * expected-revision check and the insert see the same stream even across processes.
 */
export const migrateEventsSchema = (db: SqliteDatabase): void => {
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position    INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT    NOT NULL UNIQUE,
        stream_id   TEXT    NOT NULL,
        revision    INTEGER NOT NULL,
        type        TEXT    NOT NULL,
        data        TEXT    NOT NULL,
        metadata    TEXT    NOT NULL,
        recorded_at INTEGER NOT NULL,
        UNIQUE (stream_id, revision)
      )`);
  }).immediate();
};

/** Columns in the order eventFromRow reads them; statements using it must be raw() and safeIntegers(). */
export const EVENT_COLUMNS = 'position, id, stream_id, revision, type, data, metadata, recorded_at';

export const eventFromRow = (row: unknown[]): StoredEvent => ({
  position: row[0] as bigint,
  id: row[1] as string,
  streamId: row[2] as string,
  revision: row[3] as bigint,
  type: row[4] as string,
  data: JSON.parse(row[5] as string) as JsonObject,
  metadata: JSON.parse(row[6] as string) as JsonObject,
  recordedAt: new Date(Number(row[7] as bigint)),
});

/** SQL matching stream ids that start with any of `count` prefixes; bind each prefix twice (prefixParameters). */
export const streamPrefixCondition = (count: number): string =>
  count === 0 ? '0' : `(${Array.from({ length: count }, () => 'substr(stream_id, 1, length(?)) = ?').join(' OR ')})`;

export const prefixParameters = (prefixes: readonly string[]): string[] => prefixes.flatMap((prefix) => [prefix, prefix]);

const MAX_REVISION = 9_223_372_036_854_775_807n;

/** SQLite's LIMIT: -1 is no limit. */
const limitOf = (maxCount: number | undefined): number => {
  if (maxCount === undefined) return -1;
  if (!Number.isInteger(maxCount) || maxCount < 0) throw new ValidationError(`maxCount must be a whole number >= 0, got ${maxCount}`);
  return maxCount;
};

export const createSqliteEventStore = (options: { readonly path: string }): EventStore => {
  const db = openSqliteDatabase(options.path);
  migrateEventsSchema(db);

  const currentRevision = db.prepare('SELECT MAX(revision) FROM events WHERE stream_id = ?').pluck().safeIntegers();
  const storedById = db.prepare('SELECT stream_id, revision, position FROM events WHERE id = ?').raw().safeIntegers();
  const insert = db
    .prepare('INSERT INTO events (id, stream_id, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .safeIntegers();
  const readForwards = db
    .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?`)
    .raw()
    .safeIntegers();
  const readBackwards = db
    .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`)
    .raw()
    .safeIntegers();
  const head = db.prepare('SELECT MAX(position) FROM events').pluck().safeIntegers();
  const readAllUnfiltered = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?`).raw().safeIntegers();
  // One statement per number of prefixes, prepared on first use.
  const readAllFiltered = new Map<number, SqliteStatement>();
  const readAllWithPrefixes = (count: number): SqliteStatement => {
    let statement = readAllFiltered.get(count);
    if (statement === undefined) {
      statement = db
        .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position >= ? AND ${streamPrefixCondition(count)} ORDER BY position LIMIT ?`)
        .raw()
        .safeIntegers();
      readAllFiltered.set(count, statement);
    }
    return statement;
  };

  const storedPlaceOf = (id: string): StoredPlace | undefined => {
    const row = storedById.get(id) as [string, bigint, bigint] | undefined;
    return row === undefined ? undefined : { streamId: row[0], revision: row[1], position: row[2] };
  };

  const append = db.transaction((streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): AppendResult => {
    const current = currentRevision.get(streamId) as bigint | null;
    const original = checkAppend(streamId, events, expected, current, storedPlaceOf);
    if (original !== null) return original;

    const recordedAt = Date.now();
    let revision = current ?? -1n;
    let position = 0n;
    for (const event of events) {
      revision++;
      position = insert.run(event.id, streamId, revision, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata), recordedAt)
        .lastInsertRowid as bigint;
    }
    return { nextRevision: revision, position };
  });

  /**
   * Group commit: appends that arrive in the same turn of the event loop (concurrent commands
   * of one process) are written in ONE transaction, each inside its own savepoint, so one that
   * fails (a concurrency conflict) rolls back alone and the others still commit. A transaction
   * per append would pay the lock and the WAL commit once per event.
   */
  interface PendingAppend {
    readonly streamId: string;
    readonly events: readonly NewEvent[];
    readonly expected: ExpectedRevision;
    readonly resolve: (result: AppendResult) => void;
    readonly reject: (error: unknown) => void;
  }
  let pending: PendingAppend[] = [];
  const appendGroup = db.transaction((group: readonly PendingAppend[]) =>
    group.map((item) => {
      try {
        return { result: append(item.streamId, item.events, item.expected) };
      } catch (error) {
        return { error };
      }
    }),
  );
  const flush = (): void => {
    const group = pending;
    pending = [];
    let outcomes: Array<{ result?: AppendResult; error?: unknown }>;
    try {
      if (!db.open) throw new UnavailableError('the SQLite event store is closed');
      outcomes = appendGroup.immediate(group);
    } catch (error) {
      for (const item of group) item.reject(translateSqliteError(error));
      return;
    }
    group.forEach((item, index) => {
      const outcome = outcomes[index];
      if (outcome?.result !== undefined) item.resolve(outcome.result);
      else item.reject(translateSqliteError(outcome?.error));
    });
  };

  const run = <T>(work: () => T): T => {
    if (!db.open) throw new UnavailableError('the SQLite event store is closed');
    return translatingSqliteErrors(work);
  };

  return {
    async appendToStream(streamId, events, { expectedRevision }) {
      if (events.length === 0) throw new ValidationError('an append needs at least one event');
      if (new Set(events.map((event) => event.id)).size !== events.length) throw new ValidationError('an append cannot repeat an event id');
      return new Promise<AppendResult>((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ streamId, events, expected: expectedRevision, resolve, reject });
      });
    },

    async readStream(streamId, options = {}) {
      const limit = limitOf(options.maxCount);
      return run(() => {
        const rows =
          options.direction === 'backwards'
            ? readBackwards.all(streamId, options.fromRevision ?? MAX_REVISION, limit)
            : readForwards.all(streamId, options.fromRevision ?? 0n, limit);
        return (rows as unknown[][]).map(eventFromRow);
      });
    },

    async readAll(options = {}) {
      const limit = limitOf(options.maxCount);
      const from = options.fromPosition ?? 0n;
      return run(() => {
        const prefixes = options.streamPrefixes;
        const rows =
          prefixes === undefined
            ? readAllUnfiltered.all(from, limit)
            : readAllWithPrefixes(prefixes.length).all(from, ...prefixParameters(prefixes), limit);
        return (rows as unknown[][]).map(eventFromRow);
      });
    },

    async headPosition() {
      return run(() => head.get() as bigint | null);
    },

    async close() {
      if (db.open) db.close();
    },
  };
};
