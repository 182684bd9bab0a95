import { createMemorySnapshotStore } from '#adapters/memory/memorySnapshotStore';
import { describeSnapshotStoreContract } from './snapshotStore.contract.ts';

describeSnapshotStoreContract('memory', async () => {
  const store = createMemorySnapshotStore();
  return { store, teardown: () => store.close() };
});
