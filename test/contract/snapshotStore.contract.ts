import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Snapshot, SnapshotStore } from '#ports/snapshotStore';

export interface SnapshotStoreFixture {
  readonly store: SnapshotStore;
  teardown(): Promise<void>;
}

const snapshotOf = (streamId: string, revision: bigint, overrides: Partial<Snapshot> = {}): Snapshot => ({
  streamId,
  revision,
  position: revision * 1_000n + 7n,
  eventId: randomUUID(),
  format: 'user-state.1;test',
  payload: `A256GCM.${randomUUID()}-${'x'.repeat(64)}`,
  ...overrides,
});

/** What every snapshot store must do: keep the newest snapshot written per stream, exactly as written. */
export const describeSnapshotStoreContract = (name: string, setup: () => Promise<SnapshotStoreFixture>): void => {
  describe(`snapshot store contract: ${name}`, () => {
    let fixture: SnapshotStoreFixture;
    let store: SnapshotStore;
    const freshStream = (): string => `user-${randomUUID()}`;

    beforeEach(async () => {
      fixture = await setup();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.teardown();
    });

    describe('when a stream has no snapshot', () => {
      it('reads null', async () => {
        expect(await store.read(freshStream())).toBeNull();
      });
    });

    describe('when a snapshot was written', () => {
      it('reads it back exactly, revisions and positions past 2^53 included', async () => {
        const streamId = freshStream();
        const snapshot = snapshotOf(streamId, 12n, { position: 2n ** 60n + 3n, payload: `A256GCM.${'é'.repeat(10)}${'a'.repeat(40_000)}` });
        await store.write(snapshot);
        expect(await store.read(streamId)).toEqual(snapshot);
      });

      it('keeps it to its own stream', async () => {
        const [mine, other] = [freshStream(), freshStream()];
        await store.write(snapshotOf(mine, 3n));
        expect(await store.read(other)).toBeNull();
      });
    });

    describe('when several snapshots were written for one stream', () => {
      it('reads the last one written', async () => {
        const streamId = freshStream();
        await store.write(snapshotOf(streamId, 99n));
        const newest = snapshotOf(streamId, 199n, { format: 'user-state.2;test' });
        await store.write(newest);
        expect(await store.read(streamId)).toEqual(newest);
      });

      it('keeps other streams’ snapshots as they were', async () => {
        const [first, second] = [freshStream(), freshStream()];
        const kept = snapshotOf(first, 5n);
        await store.write(kept);
        await store.write(snapshotOf(second, 5n));
        await store.write(snapshotOf(second, 10n));
        expect(await store.read(first)).toEqual(kept);
      });
    });
  });
};
