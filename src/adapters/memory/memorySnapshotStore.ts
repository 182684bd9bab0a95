import type { Snapshot, SnapshotStore } from '#ports/snapshotStore';

/** The in-memory twin of the snapshot stores, held to the same contract suite. */
export const createMemorySnapshotStore = (): SnapshotStore => {
  const snapshots = new Map<string, Snapshot>();
  return {
    async read(streamId) {
      return snapshots.get(streamId) ?? null;
    },
    async write(snapshot) {
      snapshots.set(snapshot.streamId, { ...snapshot });
    },
    async close() {},
  };
};
