import { afterAll, beforeAll } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, type EventStoreDBClient } from '#adapters/eventstoredb/index';
import { startEsdbEmulator, type EsdbEmulator } from './esdb-emulator/index.ts';

/**
 * One emulator and one client on it for the whole test file: started before its tests, closed
 * after them. The getters throw when called outside the tests (the emulator is not up yet).
 */
export const useEmulatorClient = (): { readonly emulator: () => EsdbEmulator; readonly client: () => EventStoreDBClient } => {
  let emulator: EsdbEmulator | null = null;
  let client: EventStoreDBClient | null = null;
  beforeAll(async () => {
    emulator = await startEsdbEmulator();
    client = createEventStoreDBClient(emulator.connectionString);
  });
  afterAll(async () => {
    if (client !== null) await closeEventStoreDBClient(client);
    await emulator?.stop();
  });
  const started = <T>(value: T | null): T => {
    if (value === null) throw new Error('the emulator is started before the tests of this file, not when they are declared');
    return value;
  };
  return { emulator: () => started(emulator), client: () => started(client) };
};
