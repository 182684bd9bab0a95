import path from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteReadModelRegistry } from '#adapters/sqlite/sqliteReadModelRegistry';
import { createSqliteReadModels } from '#adapters/sqlite/sqliteReadModels';
import { tempDir } from '#test/support/tempDir';
import { describeReadModelRegistryContract } from './readModelRegistry.contract.ts';
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

describeReadModelRegistryContract('sqlite', async () => {
  const dir = tempDir('chronicle-registry-');
  const file = path.join(dir.path, 'read-models.sqlite');
  const registry = createSqliteReadModelRegistry({ path: file });
  return {
    registry,
    // Version 1 too: its tables keep the names they had before versions existed.
    versions: [1, 2, 3],
    deletesInBatches: true,
    openAnother: () => createSqliteReadModelRegistry({ path: file }),
    cleanup: async () => {
      await registry.close();
      dir.remove();
    },
  };
});
