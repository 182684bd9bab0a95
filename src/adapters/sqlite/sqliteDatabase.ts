import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { UnavailableError } from '#domain/errors';

export type SqliteDatabase = Database.Database;
export type SqliteStatement = Database.Statement<unknown[]>;

/**
 * The native driver, loaded on first use rather than imported. A bundler hoists a static import
 * of an external package to the top of every Lambda bundle, and the deployed functions (which
 * run on EventStoreDB and Redis, and ship without better-sqlite3) would then fail at init.
 */
const requireFromHere = createRequire(import.meta.url);
let driver: typeof Database | undefined;
const sqliteDriver = (): typeof Database => (driver ??= requireFromHere('better-sqlite3') as typeof Database);

export interface OpenSqliteOptions {
  /** How long a statement waits for another connection's write lock before SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
}

/** A failure reported by SQLite itself (it carries an SQLITE_* code). */
export const isSqliteError = (error: unknown): error is InstanceType<typeof Database.SqliteError> =>
  driver !== undefined && error instanceof driver.SqliteError;

/** Another connection held the lock for longer than the busy timeout (SQLITE_BUSY_*, SQLITE_LOCKED_*). */
export const isSqliteBusy = (error: unknown): boolean => isSqliteError(error) && /^SQLITE_(BUSY|LOCKED)/.test(error.code);

/** Turns lock timeouts into UnavailableError (the caller may retry); anything else passes through. */
export const translateSqliteError = (error: unknown): unknown =>
  isSqliteBusy(error) ? new UnavailableError(`SQLite database is busy: ${(error as Error).message}`, { code: (error as { code: string }).code }) : error;

/** Runs a synchronous statement (or several), its lock timeout thrown as UnavailableError (translateSqliteError). */
export const translatingSqliteErrors = <T>(work: () => T): T => {
  try {
    return work();
  } catch (error) {
    throw translateSqliteError(error);
  }
};

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Opens (creating it and its folder if needed) a SQLite file that several processes use at once:
 * serverless-offline's workers, the projector and the CLIs. WAL lets readers go on while one
 * writer writes; the busy timeout makes writers queue for the lock instead of failing; NORMAL
 * sync is durable across process crashes in WAL mode.
 */
export const openSqliteDatabase = (filePath: string, options: OpenSqliteOptions = {}): SqliteDatabase => {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  if (filePath !== ':memory:') mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true });
  // Switching a fresh file to WAL needs a moment of exclusive access; when several processes
  // open the file at once, the losers retry rather than fail.
  const SqliteDriver = sqliteDriver();
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    const db = new SqliteDriver(filePath, { timeout: busyTimeoutMs });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      return db;
    } catch (error) {
      db.close();
      if (!isSqliteBusy(error) || Date.now() > deadline) throw translateSqliteError(error);
      sleepSync(10 + Math.random() * 20);
    }
  }
};
