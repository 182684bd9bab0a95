import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UnavailableError } from '#domain/errors';

export type SqliteDatabase = Database.Database;
export type SqliteStatement = Database.Statement<unknown[]>;

export interface OpenSqliteOptions {
  /** How long a statement waits for another connection's write lock before SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
}

const isSqliteError = (error: unknown): error is InstanceType<typeof Database.SqliteError> => error instanceof Database.SqliteError;

/** Another connection held the lock for longer than the busy timeout (SQLITE_BUSY_*, SQLITE_LOCKED_*). */
export const isSqliteBusy = (error: unknown): boolean => isSqliteError(error) && /^SQLITE_(BUSY|LOCKED)/.test(error.code);

/** Turns lock timeouts into UnavailableError (the caller may retry); anything else passes through. */
export const translateSqliteError = (error: unknown): unknown =>
  isSqliteBusy(error) ? new UnavailableError(`SQLite database is busy: ${(error as Error).message}`, { code: (error as { code: string }).code }) : error;

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
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    const db = new Database(filePath, { timeout: busyTimeoutMs });
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
