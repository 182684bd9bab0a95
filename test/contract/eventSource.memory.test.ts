import { createMemoryEventSource } from '#adapters/memory/memoryEventSource';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { describeEventSourceContract } from './eventSource.contract.ts';

describeEventSourceContract('memory', async () => {
  const store = createMemoryEventStore();
  const maxRetryCount = 3;
  const source = createMemoryEventSource(store, { maxRetryCount });
  return {
    store,
    source,
    parked: source,
    maxRetryCount,
    async teardown() {
      await source.close();
      await store.close();
    },
  };
});
