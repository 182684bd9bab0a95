import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEventStoreDBSnapshotStore, snapshotStreamId } from '#adapters/eventstoredb/index';
import { useEmulatorClient } from '#test/support/emulatorClient';
import { describeSnapshotStoreContract } from './snapshotStore.contract.ts';

const { client } = useEmulatorClient();

describeSnapshotStoreContract('EventStoreDB snapshot streams (emulator)', async () => ({
  store: createEventStoreDBSnapshotStore(client()),
  teardown: async () => undefined,
}));

describe('EventStoreDB snapshot streams', () => {
  it('ask the server to keep only the newest snapshot ($maxCount 1), outside the projector’s user- streams', async () => {
    const streamId = `user-${randomUUID()}`;
    await createEventStoreDBSnapshotStore(client()).write({ streamId, revision: 100n, position: 1n, eventId: randomUUID(), format: 'f', payload: 'A256GCM.x' });
    expect(snapshotStreamId(streamId).startsWith('user-')).toBe(false);
    expect((await client().getStreamMetadata(snapshotStreamId(streamId))).metadata).toMatchObject({ maxCount: 1 });
  });
});
