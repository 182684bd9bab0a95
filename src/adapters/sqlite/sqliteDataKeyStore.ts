import { GoneError, UnavailableError } from '#domain/errors';
import type { DataKeyStore, KeyWrapper } from '#ports/dataKeys';
import { openSqliteDatabase, translatingSqliteErrors } from './sqliteDatabase.ts';

export interface SqliteDataKeyStoreOptions {
  /** Its own file (DATA_DIR/keys.sqlite), so truncating its WAL never waits on the event log's readers. */
  readonly path: string;
  readonly wrapper: KeyWrapper;
  readonly busyTimeoutMs?: number;
}

// A destroyed key is a row whose key is NULL: destroyed stays destroyed, and a late writer cannot
// bring a key back for an erased user.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS data_keys (
    user_id TEXT PRIMARY KEY,
    wrapped_key BLOB,
    destroyed_at TEXT
  ) WITHOUT ROWID;
`;

const erased = (userId: string): GoneError => new GoneError('USER_ERASED', `user ${userId} was erased`, { userId });

/**
 * Data keys in SQLite, where deleting is physical: `secure_delete` zeroes the bytes of every
 * deleted or overwritten cell, and after each destruction the WAL (which still holds the old
 * page images) is checkpointed into the file and truncated to nothing.
 */
export const createSqliteDataKeyStore = (options: SqliteDataKeyStoreOptions): DataKeyStore => {
  const db = openSqliteDatabase(options.path, { busyTimeoutMs: options.busyTimeoutMs ?? 5000 });
  db.pragma('secure_delete = ON');
  db.exec(SCHEMA);
  const { wrapper } = options;
  const select = db.prepare<[string], { wrapped_key: Buffer | null }>('SELECT wrapped_key FROM data_keys WHERE user_id = ?');
  // A projector's batch asks for up to a thousand users at once: one statement, not one per user.
  const selectMany = db.prepare<[string], { user_id: string; wrapped_key: Buffer | null }>(
    'SELECT user_id, wrapped_key FROM data_keys WHERE user_id IN (SELECT value FROM json_each(?))',
  );
  // RETURNING answers a row only when this insert won: the common case needs no read-back.
  const insert = db.prepare<[string, Buffer], { user_id: string }>(
    'INSERT INTO data_keys (user_id, wrapped_key) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING RETURNING user_id',
  );
  const destroy = db.prepare<[string, string]>(
    `INSERT INTO data_keys (user_id, wrapped_key, destroyed_at) VALUES (?, NULL, ?)
     ON CONFLICT (user_id) DO UPDATE SET wrapped_key = NULL, destroyed_at = COALESCE(destroyed_at, excluded.destroyed_at)`,
  );


  // The old page images sit in the WAL until a checkpoint copies the zeroed pages over them and
  // truncates it. A reader in another process can hold the checkpoint back: wait a little, then
  // fail, so the erasure is retried (it finishes on retry) rather than reported done too early.
  const truncateWal = (): void => {
    for (let attempt = 1; ; attempt++) {
      const [result] = translatingSqliteErrors(() => db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>);
      if (result?.busy === 0) return;
      if (attempt >= 20) throw new UnavailableError('the key store could not truncate its WAL: a reader held it', { store: 'sqlite-keys' });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  };

  return {
    async getOrCreate(userId, fresh) {
      const found = translatingSqliteErrors(() => select.get(userId));
      if (found !== undefined) {
        if (found.wrapped_key === null) throw erased(userId);
        return wrapper.unwrap(found.wrapped_key, userId);
      }
      const key = fresh();
      const wrapped = Buffer.from(await wrapper.wrap(key, userId));
      // DO NOTHING on a race: whoever inserted first wins, and the others read the winner's back.
      if (translatingSqliteErrors(() => insert.get(userId, wrapped)) !== undefined) return key;
      const stored = translatingSqliteErrors(() => select.get(userId));
      if (stored?.wrapped_key == null) throw erased(userId);
      return wrapper.unwrap(stored.wrapped_key, userId);
    },
    async getMany(userIds) {
      const result = new Map<string, Uint8Array | null>();
      for (const userId of userIds) result.set(userId, null);
      const rows = translatingSqliteErrors(() => selectMany.all(JSON.stringify([...result.keys()])));
      // Unwrapped together, not one await per row (a batch can hold a thousand new users).
      const keys = await Promise.all(rows.map((row) => (row.wrapped_key === null ? null : wrapper.unwrap(row.wrapped_key, row.user_id))));
      rows.forEach((row, i) => result.set(row.user_id, keys[i] ?? null));
      return result;
    },
    async destroy(userId) {
      translatingSqliteErrors(() => destroy.run(userId, new Date().toISOString()));
      truncateWal();
    },
    async close() {
      if (db.open) db.close();
    },
  };
};
