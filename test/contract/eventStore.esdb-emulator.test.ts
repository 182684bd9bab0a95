import { createEventStoreDBEventStore } from '#adapters/eventstoredb/index';
import { useEmulatorClient } from '#test/support/emulatorClient';
import { describeEventStoreContract } from './eventStore.contract.ts';

const { client } = useEmulatorClient();

describeEventStoreContract('EventStoreDB (emulator)', async () => ({
  store: createEventStoreDBEventStore(client()),
  teardown: async () => undefined,
}));
