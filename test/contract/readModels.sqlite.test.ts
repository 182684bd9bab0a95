import path from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteReadModels } from '#adapters/sqlite/sqliteReadModels';
import { tempDir } from '#test/support/tempDir';
import { describeReadModelsContract } from './readModels.contract.ts';

describeReadModelsContract(
  'sqlite',
  async () => {
    const dir = tempDir('chronicle-rm-');
    const readModels = createSqliteReadModels({ path: path.join(dir.path, 'read-models.sqlite') });
    return {
      readModels,
      cleanup: async () => {
        await readModels.close();
        dir.remove();
      },
    };
  },
  async () => {
    const dir = tempDir('chronicle-rm-');
    const file = path.join(dir.path, 'read-models.sqlite');
    const readModels = createSqliteReadModels({ path: file, busyTimeoutMs: 50 });
    // Another process that holds the write lock past the busy timeout is what "unavailable"
    // looks like here; readers go on meanwhile (WAL).
    const blocker = new Database(file);
    return {
      readModels,
      keepsDataAcrossOutage: true,
      readsFailDuringOutage: false,
      beginOutage: async () => {
        blocker.exec('BEGIN IMMEDIATE');
      },
      endOutage: async () => {
        blocker.exec('COMMIT');
      },
      cleanup: async () => {
        blocker.close();
        await readModels.close();
        dir.remove();
      },
    };
  },
);
