import { createMemoryDataKeyStore } from '#adapters/memory/memoryDataKeyStore';
import { describeDataKeyStoreContract } from './dataKeyStore.contract.ts';

describeDataKeyStoreContract('memory', async (wrapper) => {
  const store = createMemoryDataKeyStore(wrapper);
  return { store, teardown: () => store.close() };
});
