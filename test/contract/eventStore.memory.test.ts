import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { describeEventStoreContract } from './eventStore.contract.ts';

describeEventStoreContract('memory', async () => {
  const store = createMemoryEventStore();
  return { store, teardown: () => store.close() };
});
