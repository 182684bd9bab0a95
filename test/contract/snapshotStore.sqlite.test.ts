import path from 'node:path';
import { createSqliteSnapshotStore } from '#adapters/sqlite/sqliteSnapshotStore';
import { tempDir } from '#test/support/tempDir';
import { describeSnapshotStoreContract } from './snapshotStore.contract.ts';

describeSnapshotStoreContract('SQLite', async () => {
  const dir = tempDir('chronicle-snapshots-');
  const store = createSqliteSnapshotStore({ path: path.join(dir.path, 'snapshots.sqlite') });
  return {
    store,
    teardown: async () => {
      await store.close();
      dir.remove();
    },
  };
});
