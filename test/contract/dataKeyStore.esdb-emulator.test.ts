import { createEventStoreDBDataKeyStore } from '#adapters/eventstoredb/eventStoreDBDataKeyStore';
import { useEmulatorClient } from '#test/support/emulatorClient';
import { describeDataKeyStoreContract } from './dataKeyStore.contract.ts';

const { emulator, client } = useEmulatorClient();

// A tombstone hides the key stream at once; its bytes leave the database at the next scavenge,
// which production runs on a schedule (README § Personal data), and which the check runs first.
describeDataKeyStoreContract('EventStoreDB key streams (emulator)', async (wrapper) => ({
  store: createEventStoreDBDataKeyStore(client(), { wrapper }),
  storageHolds: async (needle) => {
    emulator().scavenge();
    // The key stream holds the wrapped key as base64 in JSON.
    return emulator().holdsBytes(needle) || emulator().holdsBytes(Buffer.from(Buffer.from(needle).toString('base64')));
  },
  teardown: async () => undefined,
}));
