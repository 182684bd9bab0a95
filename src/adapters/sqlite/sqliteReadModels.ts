import { assertLimit, decodeCursor, encodeCursor, orderKeyOf } from '#adapters/shared/userPaging';
import { UnavailableError, ValidationError } from '#domain/errors';
import type { UserStatus } from '#domain/userState';
import type { ApplyOutcome, HeldStream, ListUsersQuery, ProjectedEvent, ReadModelChange, ReadModels, UserPage, UserView } from '#ports/readModels';
import { isSqliteError, openSqliteDatabase } from './sqliteDatabase.ts';

export interface SqliteReadModelsOptions {
  readonly path: string;
  /** Each read-model version has its own tables (sqliteReadModelTables); default 1. */
  readonly version?: number;
  /** How long a write waits for another process's lock before failing as unavailable. */
  readonly busyTimeoutMs?: number;
}

/** The tables of one version: version 1 keeps the names it always had, version N uses `rm_v<N>_…`. */
export const sqliteReadModelTables = (version: number) => {
  if (!Number.isSafeInteger(version) || version < 1) throw new ValidationError(`read-model version must be a positive whole number, got ${version}`);
  const prefix = version === 1 ? 'rm_' : `rm_v${version}_`;
  return { users: `${prefix}users`, emailIndex: `${prefix}email_index`, applied: `${prefix}applied`, checkpoint: `${prefix}checkpoint`, held: `${prefix}held_streams`, erased: `${prefix}erased`, prefix };
};

const schemaOf = (t: ReturnType<typeof sqliteReadModelTables>): string => `
  CREATE TABLE IF NOT EXISTS ${t.users} (
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
  CREATE INDEX IF NOT EXISTS ${t.users}_by_order ON ${t.users} (order_key);
  CREATE INDEX IF NOT EXISTS ${t.users}_by_status ON ${t.users} (status, order_key);
  CREATE TABLE IF NOT EXISTS ${t.emailIndex} (email TEXT PRIMARY KEY, user_id TEXT NOT NULL, claimed_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ${t.applied} (stream_id TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ${t.erased} (user_id TEXT PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ${t.checkpoint} (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS ${t.held} (stream_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, reason TEXT NOT NULL, held_at TEXT NOT NULL);
`;

interface HeldRow {
  stream_id: string;
  revision: bigint;
  reason: string;
  held_at: string;
}

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
  const t = sqliteReadModelTables(options.version ?? 1);
  const db = openSqliteDatabase(options.path, { busyTimeoutMs: options.busyTimeoutMs ?? 5000 });
  try {
    db.defaultSafeIntegers(true);
    // Deleted and overwritten rows are zeroed, not just unlinked: an erased user's email and
    // name must not survive in free pages (the WAL is truncated after an erasure, below).
    db.pragma('secure_delete = ON');
    db.exec(schemaOf(t));
    // Files written before claims carried their position: add the column (every old claim at 0).
    const emailColumns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(t.emailIndex) as string[];
    if (!emailColumns.includes('claimed_at')) db.exec(`ALTER TABLE ${t.emailIndex} ADD COLUMN claimed_at INTEGER NOT NULL DEFAULT 0`);
  } catch (error) {
    db.close();
    throw translate(error);
  }

  const selectUser = db.prepare<[string], UserRow>(`SELECT * FROM ${t.users} WHERE id = ?`);
  const upsertUser = db.prepare<[string, string, string, string, number, string, string, bigint, bigint]>(
    `INSERT INTO ${t.users} (id, email, display_name, status, email_verified, registered_at, order_key, revision, position)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET email = excluded.email, display_name = excluded.display_name, status = excluded.status,
       email_verified = excluded.email_verified, registered_at = excluded.registered_at, order_key = excluded.order_key,
       revision = excluded.revision, position = excluded.position`,
  );
  const patchUser = db.prepare<[string | null, string | null, string | null, number | null, bigint, bigint, string]>(
    `UPDATE ${t.users} SET email = COALESCE(?, email), display_name = COALESCE(?, display_name), status = COALESCE(?, status),
       email_verified = COALESCE(?, email_verified), revision = ?, position = ? WHERE id = ?`,
  );
  // An older claim arriving late (streams are not delivered in log order) never displaces a newer one.
  const setEmail = db.prepare<[string, string, bigint]>(
    `INSERT INTO ${t.emailIndex} (email, user_id, claimed_at) VALUES (?, ?, ?)
     ON CONFLICT (email) DO UPDATE SET user_id = excluded.user_id, claimed_at = excluded.claimed_at WHERE excluded.claimed_at > ${t.emailIndex}.claimed_at`,
  );
  const dropEmail = db.prepare<[string, string]>(`DELETE FROM ${t.emailIndex} WHERE email = ? AND user_id = ?`);
  const selectEmail = db.prepare<[string], string>(`SELECT user_id FROM ${t.emailIndex} WHERE email = ?`).pluck();
  const selectApplied = db.prepare<[string], bigint>(`SELECT revision FROM ${t.applied} WHERE stream_id = ?`).pluck();
  const setApplied = db.prepare<[string, bigint]>(`INSERT INTO ${t.applied} (stream_id, revision) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision`);
  const selectCheckpoint = db.prepare<[], bigint>(`SELECT position FROM ${t.checkpoint} WHERE id = 1`).pluck();
  const raiseCheckpoint = db.prepare<[bigint]>(
    `INSERT INTO ${t.checkpoint} (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = MAX(position, excluded.position)`,
  );
  const deleteUser = db.prepare<[string]>(`DELETE FROM ${t.users} WHERE id = ?`);
  const dropEmailsOf = db.prepare<[string]>(`DELETE FROM ${t.emailIndex} WHERE user_id = ?`);
  const markErased = db.prepare<[string]>(`INSERT INTO ${t.erased} (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING`);
  const selectErased = db.prepare<[string], string>(`SELECT user_id FROM ${t.erased} WHERE user_id = ?`).pluck();
  const countByStatus = db.prepare<[string], bigint>(`SELECT COUNT(*) FROM ${t.users} WHERE status = ?`).pluck();
  const pageAll = db.prepare<[string, number], UserRow>(`SELECT * FROM ${t.users} WHERE order_key > ? ORDER BY order_key LIMIT ?`);
  const pageByStatus = db.prepare<[string, string, number], UserRow>(`SELECT * FROM ${t.users} WHERE status = ? AND order_key > ? ORDER BY order_key LIMIT ?`);

  const insertHeld = db.prepare<[string, bigint, string, string]>(`INSERT INTO ${t.held} (stream_id, revision, reason, held_at) VALUES (?, ?, ?, ?) ON CONFLICT (stream_id) DO NOTHING`);
  const deleteHeld = db.prepare<[string]>(`DELETE FROM ${t.held} WHERE stream_id = ?`);
  const selectHeld = db.prepare<[string], HeldRow>(`SELECT stream_id, revision, reason, held_at FROM ${t.held} WHERE stream_id = ?`);
  const selectHeldPage = db.prepare<[number], HeldRow>(`SELECT stream_id, revision, reason, held_at FROM ${t.held} ORDER BY held_at, stream_id LIMIT ?`);
  const heldOf = (row: HeldRow): HeldStream => ({ streamId: row.stream_id, revision: row.revision, reason: row.reason, heldAt: row.held_at });

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
        if ((event.firstRevision ?? event.revision) !== (current ?? -1n) + 1n) return 'gap';
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

    holdStream: guarded((streamId: string, revision: bigint, reason: string): void => void insertHeld.run(streamId, revision, reason, new Date().toISOString())),

    releaseStream: guarded((streamId: string): void => void deleteHeld.run(streamId)),

    getHeldStream: guarded((streamId: string): HeldStream | null => {
      const row = selectHeld.get(streamId);
      return row === undefined ? null : heldOf(row);
    }),

    listHeldStreams: guarded((limit: number): HeldStream[] => selectHeldPage.all(limit).map(heldOf)),

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
