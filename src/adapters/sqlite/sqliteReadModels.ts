import { assertLimit, decodeCursor, encodeCursor, orderKeyOf } from '#adapters/shared/userPaging';
import { UnavailableError, ValidationError } from '#domain/errors';
import type { UserStatus } from '#domain/userState';
import type { ApplyOutcome, ListUsersQuery, ProjectedEvent, ReadModelChange, ReadModels, UserPage, UserView } from '#ports/readModels';
import { isSqliteError, openSqliteDatabase } from './sqliteDatabase.ts';

export interface SqliteReadModelsOptions {
  readonly path: string;
  /** How long a write waits for another process's lock before failing as unavailable. */
  readonly busyTimeoutMs?: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS rm_users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    status TEXT NOT NULL,
    email_verified INTEGER NOT NULL,
    registered_at TEXT NOT NULL,
    order_key TEXT NOT NULL,
    revision INTEGER NOT NULL,
    position INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS rm_users_by_order ON rm_users (order_key);
  CREATE INDEX IF NOT EXISTS rm_users_by_status ON rm_users (status, order_key);
  CREATE TABLE IF NOT EXISTS rm_email_index (email TEXT PRIMARY KEY, user_id TEXT NOT NULL, claimed_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rm_applied (stream_id TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rm_erased (user_id TEXT PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rm_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
`;

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  status: UserStatus;
  email_verified: bigint;
  registered_at: string;
  order_key: string;
  revision: bigint;
  position: bigint;
}

const toView = (row: UserRow): UserView => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  status: row.status,
  emailVerified: row.email_verified !== 0n,
  registeredAt: row.registered_at,
  revision: row.revision,
  position: row.position,
});

/** Busy, locked, I/O and open failures can pass; anything else (constraint, bad SQL) is a bug. */
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|PROTOCOL|NOMEM|INTERRUPT)/;

const translate = (error: unknown): unknown => {
  if (isSqliteError(error) && TRANSIENT_SQLITE.test(error.code)) {
    return new UnavailableError(`read-model database unavailable: ${error.message}`, { code: error.code });
  }
  return error;
};

const guarded =
  <A extends unknown[], R>(fn: (...args: A) => R) =>
  async (...args: A): Promise<R> => {
    try {
      return fn(...args);
    } catch (error) {
      throw translate(error);
    }
  };

export const createSqliteReadModels = (options: SqliteReadModelsOptions): ReadModels => {
  // WAL and a busy timeout: the Lambdas read while the projector writes, from other processes.
  const db = openSqliteDatabase(options.path, { busyTimeoutMs: options.busyTimeoutMs ?? 5000 });
  try {
    db.defaultSafeIntegers(true);
    // Deleted and overwritten rows are zeroed, not just unlinked: an erased user's email and
    // name must not survive in free pages (the WAL is truncated after an erasure, below).
    db.pragma('secure_delete = ON');
    db.exec(SCHEMA);
    // Files written before claims carried their position: add the column (every old claim at 0).
    const emailColumns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('rm_email_index') as string[];
    if (!emailColumns.includes('claimed_at')) db.exec('ALTER TABLE rm_email_index ADD COLUMN claimed_at INTEGER NOT NULL DEFAULT 0');
  } catch (error) {
    db.close();
    throw translate(error);
  }

  const selectUser = db.prepare<[string], UserRow>('SELECT * FROM rm_users WHERE id = ?');
  const upsertUser = db.prepare<[string, string, string, string, number, string, string, bigint, bigint]>(
    `INSERT INTO rm_users (id, email, display_name, status, email_verified, registered_at, order_key, revision, position)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET email = excluded.email, display_name = excluded.display_name, status = excluded.status,
       email_verified = excluded.email_verified, registered_at = excluded.registered_at, order_key = excluded.order_key,
       revision = excluded.revision, position = excluded.position`,
  );
  const patchUser = db.prepare<[string | null, string | null, string | null, number | null, bigint, bigint, string]>(
    `UPDATE rm_users SET email = COALESCE(?, email), display_name = COALESCE(?, display_name), status = COALESCE(?, status),
       email_verified = COALESCE(?, email_verified), revision = ?, position = ? WHERE id = ?`,
  );
  // An older claim arriving late (streams are not delivered in log order) never displaces a newer one.
  const setEmail = db.prepare<[string, string, bigint]>(
    `INSERT INTO rm_email_index (email, user_id, claimed_at) VALUES (?, ?, ?)
     ON CONFLICT (email) DO UPDATE SET user_id = excluded.user_id, claimed_at = excluded.claimed_at WHERE excluded.claimed_at > rm_email_index.claimed_at`,
  );
  const dropEmail = db.prepare<[string, string]>('DELETE FROM rm_email_index WHERE email = ? AND user_id = ?');
  const selectEmail = db.prepare<[string], string>('SELECT user_id FROM rm_email_index WHERE email = ?').pluck();
  const selectApplied = db.prepare<[string], bigint>('SELECT revision FROM rm_applied WHERE stream_id = ?').pluck();
  const setApplied = db.prepare<[string, bigint]>('INSERT INTO rm_applied (stream_id, revision) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision');
  const selectCheckpoint = db.prepare<[], bigint>('SELECT position FROM rm_checkpoint WHERE id = 1').pluck();
  const raiseCheckpoint = db.prepare<[bigint]>(
    'INSERT INTO rm_checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = MAX(position, excluded.position)',
  );
  const deleteUser = db.prepare<[string]>('DELETE FROM rm_users WHERE id = ?');
  const dropEmailsOf = db.prepare<[string]>('DELETE FROM rm_email_index WHERE user_id = ?');
  const markErased = db.prepare<[string]>('INSERT INTO rm_erased (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING');
  const selectErased = db.prepare<[string], string>('SELECT user_id FROM rm_erased WHERE user_id = ?').pluck();
  const countByStatus = db.prepare<[string], bigint>('SELECT COUNT(*) FROM rm_users WHERE status = ?').pluck();
  const pageAll = db.prepare<[string, number], UserRow>('SELECT * FROM rm_users WHERE order_key > ? ORDER BY order_key LIMIT ?');
  const pageByStatus = db.prepare<[string, string, number], UserRow>('SELECT * FROM rm_users WHERE status = ? AND order_key > ? ORDER BY order_key LIMIT ?');

  const applyChange = (change: ReadModelChange, event: ProjectedEvent): void => {
    switch (change.type) {
      case 'userCreated': {
        const { user } = change;
        const previous = selectUser.get(user.id);
        if (previous) dropEmail.run(previous.email, user.id);
        upsertUser.run(user.id, user.email, user.displayName, user.status, user.emailVerified ? 1 : 0, user.registeredAt, orderKeyOf(user.registeredAt, user.id), event.revision, event.position);
        setEmail.run(user.email, user.id, event.position);
        return;
      }
      case 'userPatched': {
        // A patch for a user the read model never saw (its registration was parked) is dropped.
        const previous = selectUser.get(change.userId);
        if (!previous) return;
        const { email, displayName, status, emailVerified } = change.fields;
        patchUser.run(email ?? null, displayName ?? null, status ?? null, emailVerified === undefined ? null : emailVerified ? 1 : 0, event.revision, event.position, change.userId);
        if (email !== undefined && email !== previous.email) {
          dropEmail.run(previous.email, change.userId);
          setEmail.run(email, change.userId, event.position);
        }
        return;
      }
      case 'userErased':
        deleteUser.run(change.userId);
        dropEmailsOf.run(change.userId);
        markErased.run(change.userId);
        return;
      default: {
        const unknown: never = change;
        throw new ValidationError(`unknown read-model change ${JSON.stringify(unknown)}`);
      }
    }
  };

  // IMMEDIATE takes the write lock up front, so two writing processes queue on busy_timeout
  // instead of one failing when it upgrades from a read lock.
  const applyTransaction = db.transaction((events: readonly ProjectedEvent[], checkpoint: bigint | null): ApplyOutcome[] => {
      const outcomes = events.map((event): ApplyOutcome => {
        const current = selectApplied.get(event.streamId);
        if (current !== undefined && event.revision <= current) return 'duplicate';
        if (event.revision !== (current ?? -1n) + 1n) return 'gap';
        for (const change of event.changes) applyChange(change, event);
        setApplied.run(event.streamId, event.revision);
        return 'applied';
      });
      if (checkpoint !== null) raiseCheckpoint.run(checkpoint);
      return outcomes;
    });
  const applyBatch = (events: readonly ProjectedEvent[], checkpoint: bigint | null): ApplyOutcome[] => {
    const outcomes = applyTransaction.immediate(events, checkpoint);
    if (events.some((event, i) => outcomes[i] === 'applied' && event.changes.some((change) => change.type === 'userErased'))) truncateWal();
    return outcomes;
  };

  // The WAL still holds page images from before an erasure: copy the zeroed pages into the file
  // and truncate it. A reader in another process can hold the checkpoint back for a moment; if it
  // still cannot finish, the next erasure (or the next one after restart) truncates it instead.
  const truncateWal = (): void => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: bigint | number }>;
      if (Number(result?.busy ?? 1) === 0) return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  };

  return {
    applyBatch: guarded(applyBatch),

    getUser: guarded((userId: string): UserView | null => {
      const row = selectUser.get(userId);
      return row ? toView(row) : null;
    }),

    listUsers: guarded((query: ListUsersQuery): UserPage => {
      assertLimit(query.limit);
      const after = query.cursor ? decodeCursor(query.cursor) : '';
      // One row more than asked tells whether another page follows.
      const rows = query.status === undefined ? pageAll.all(after, query.limit + 1) : pageByStatus.all(query.status, after, query.limit + 1);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return { items: page.map(toView), nextCursor: rows.length > page.length && last ? encodeCursor(last.order_key) : null };
    }),

    countUsers: guarded((status: UserStatus): number => Number(countByStatus.get(status) ?? 0n)),

    findUserIdByEmail: guarded((email: string): string | null => selectEmail.get(email) ?? null),

    isUserErased: guarded((userId: string): boolean => selectErased.get(userId) !== undefined),

    getAppliedRevision: guarded((streamId: string): bigint | null => selectApplied.get(streamId) ?? null),

    getCheckpoint: guarded((): bigint | null => selectCheckpoint.get() ?? null),

    async close(): Promise<void> {
      if (db.open) db.close();
    },
  };
};
