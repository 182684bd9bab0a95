import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createSqliteDataKeyStore } from '#adapters/sqlite/sqliteDataKeyStore';
import { tempDir } from '#test/support/tempDir';
import { describeDataKeyStoreContract } from './dataKeyStore.contract.ts';

/** Every byte of every file in the folder: the database, its WAL and its shared-memory index. */
const filesHold = (dir: string, needle: Uint8Array): boolean =>
  readdirSync(dir).some((name) => readFileSync(path.join(dir, name)).includes(Buffer.from(needle)));

describeDataKeyStoreContract('SQLite', async (wrapper) => {
  const dir = tempDir('chronicle-keys-');
  const store = createSqliteDataKeyStore({ path: path.join(dir.path, 'keys.sqlite'), wrapper });
  return {
    store,
    storageHolds: async (needle) => filesHold(dir.path, needle),
    teardown: async () => {
      await store.close();
      dir.remove();
    },
  };
});
