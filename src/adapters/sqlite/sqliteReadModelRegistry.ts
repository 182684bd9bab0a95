import { activeVersionChanged, assertVersion, decodeVersionRecord, encodeVersionRecord, newVersionRecord, versionActive, versionNotFound } from '#adapters/shared/versionRegistry';
import type { ReadModelRegistry, ReadModels, ReadModelVersionRecord } from '#ports/readModels';
import { openSqliteDatabase, translatingSqliteErrors } from './sqliteDatabase.ts';
import { createSqliteReadModels, sqliteReadModelTables } from './sqliteReadModels.ts';

export interface SqliteReadModelRegistryOptions {
  /** The read-model file (the same one every version's tables live in). */
  readonly path: string;
  readonly busyTimeoutMs?: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS rm_versions (version INTEGER PRIMARY KEY, record TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS rm_active (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
`;

/** The registry in the read-model SQLite file: one row per version, one row for the active pointer. */
export const createSqliteReadModelRegistry = (options: SqliteReadModelRegistryOptions): ReadModelRegistry => {
  const db = openSqliteDatabase(options.path, { busyTimeoutMs: options.busyTimeoutMs ?? 5000 });
  db.exec(SCHEMA);
  const opened = new Map<number, ReadModels>();

  const selectRecord = db.prepare<[number], string>('SELECT record FROM rm_versions WHERE version = ?').pluck();
  const selectAll = db.prepare<[], { version: number; record: string }>('SELECT version, record FROM rm_versions ORDER BY version');
  const insertRecord = db.prepare<[number, string]>('INSERT INTO rm_versions (version, record) VALUES (?, ?) ON CONFLICT (version) DO NOTHING');
  const updateRecord = db.prepare<[string, number]>('UPDATE rm_versions SET record = ? WHERE version = ?');
  const deleteRecord = db.prepare<[number]>('DELETE FROM rm_versions WHERE version = ?');
  const selectActive = db.prepare<[], number>('SELECT version FROM rm_active WHERE id = 1').pluck();
  const setActive = db.prepare<[number]>('INSERT INTO rm_active (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version');

  const recordOf = (version: number): ReadModelVersionRecord | null => {
    const text = selectRecord.get(version);
    return text === undefined ? null : decodeVersionRecord(version, text);
  };
  const withState = (record: ReadModelVersionRecord, state: ReadModelVersionRecord['state']): void =>
    void updateRecord.run(encodeVersionRecord({ ...record, state, updatedAt: new Date().toISOString() }), record.version);

  const activate = db.transaction((version: number, expected: number | null | undefined): number | null => {
    const record = recordOf(version);
    if (record === null) throw versionNotFound(version);
    const current = selectActive.get() ?? null;
    if (expected !== undefined && expected !== current) throw activeVersionChanged(expected, current);
    const before = current === null || current === version ? null : recordOf(current);
    if (before !== null) withState(before, 'retired');
    withState(record, 'live');
    setActive.run(version);
    return current;
  });

  const tableRows = (table: string) => db.prepare<[number]>(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} LIMIT ?)`);

  return {
    async listVersions() {
      return translatingSqliteErrors(() => selectAll.all().map((row) => decodeVersionRecord(Number(row.version), row.record)));
    },
    async getVersion(version) {
      return translatingSqliteErrors(() => recordOf(version));
    },
    async getActiveVersion() {
      return translatingSqliteErrors(() => {
        const version = selectActive.get();
        return version === undefined ? null : Number(version);
      });
    },
    async registerVersion(version, projection) {
      assertVersion(version);
      return translatingSqliteErrors(() => {
        const created = insertRecord.run(version, encodeVersionRecord(newVersionRecord(version, projection, new Date()))).changes === 1;
        const record = recordOf(version);
        if (record === null) throw versionNotFound(version);
        return { record, created };
      });
    },
    async setVersionState(version, state) {
      translatingSqliteErrors(() => {
        const record = recordOf(version);
        if (record === null) throw versionNotFound(version);
        withState(record, state);
      });
    },
    async activateVersion(version, activateOptions = {}) {
      assertVersion(version);
      return { previous: translatingSqliteErrors(() => activate.immediate(version, activateOptions.expectedActive)) };
    },
    async dropVersion(version, dropOptions = {}) {
      assertVersion(version);
      const batchSize = dropOptions.batchSize ?? 1_000;
      if (translatingSqliteErrors(() => selectActive.get()) === version) throw versionActive(version);
      const tables = sqliteReadModelTables(version);
      let deleted = 0;
      for (const table of [tables.users, tables.emailIndex, tables.applied, tables.held, tables.erased, tables.checkpoint]) {
        const exists = translatingSqliteErrors(() => db.prepare<[string], number>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(table));
        if (exists === 0) continue;
        // WITHOUT ROWID tables have no rowid: page by their primary key instead.
        const key = table === tables.users ? 'id' : table === tables.emailIndex ? 'email' : table === tables.checkpoint ? 'id' : table === tables.erased ? 'user_id' : 'stream_id';
        const deleteBatch = table === tables.checkpoint ? tableRows(table) : db.prepare<[number]>(`DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} LIMIT ?)`);
        // Short transactions: the projector and the Lambdas keep writing and reading other versions
        // meanwhile. The empty tables stay: a process still holding statements on them (a projector
        // of the retired version) reads an empty version instead of failing.
        for (let changes = batchSize; changes === batchSize; ) {
          changes = translatingSqliteErrors(() => deleteBatch.run(batchSize).changes);
          deleted += changes;
          dropOptions.onProgress?.(deleted);
        }
      }
      translatingSqliteErrors(() => deleteRecord.run(version));
      return deleted;
    },
    readModels(version) {
      assertVersion(version);
      let readModels = opened.get(version);
      if (readModels === undefined) opened.set(version, (readModels = createSqliteReadModels({ path: options.path, version, ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }) })));
      return readModels;
    },
    async close() {
      await Promise.all([...opened.values()].map((readModels) => readModels.close()));
      opened.clear();
      if (db.open) db.close();
    },
  };
};
