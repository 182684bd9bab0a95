import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { createMemoryReadModels } from '#adapters/memory/memoryReadModels';
import { projectStoredEvent } from '#application/userProjection';
import { silentLogger } from '#logging/jsonLogger';
import type { StoredEvent } from '#ports/eventStore';
import type { ReadModels } from '#ports/readModels';
import { guardCheckpoint } from '#projector/checkpointGuard';
import { generateUserTraffic } from '#test/support/userTraffic';

/** Every user of the log as the read model has it, and the checkpoint. */
const contents = async (readModels: ReadModels, log: readonly StoredEvent[]) => ({
  users: await Promise.all([...new Set(log.map((event) => event.streamId.slice('user-'.length)))].map((id) => readModels.getUser(id))),
  checkpoint: await readModels.getCheckpoint(),
});

/** Read models whose store can be swapped underneath, as a Redis restored from an older snapshot is. */
const swappable = (initial: ReadModels) => {
  let current = initial;
  const readModels = new Proxy({} as ReadModels, { get: (_, name) => Reflect.get(current, name as keyof ReadModels) });
  return { readModels, swap: (next: ReadModels) => void (current = next) };
};

describe('the checkpoint guard', () => {
  it('replays everything written after the stored checkpoint, including events past the last checkpoint written', async () => {
    const eventStore = createMemoryEventStore();
    for (const { streamId, event } of generateUserTraffic(120, { seed: 3 })) await eventStore.appendToStream(streamId, [event], { expectedRevision: 'any' });
    const log = await eventStore.readAll({});
    const project = (events: readonly StoredEvent[]) => events.map((event) => projectStoredEvent(event));
    const slice = (from: number, to: number) => log.slice(from, to);
    const at = (index: number) => log[index - 1]!.position;

    const older = createMemoryReadModels();
    const store = swappable(older);
    const guard = guardCheckpoint({
      readModels: store.readModels,
      eventStore,
      prepare: async () => (event) => projectStoredEvent(event),
      streamPrefixes: ['user-'],
      logger: silentLogger,
      catchUpAtStart: false,
    });
    await guard.readModels.applyBatch(project(slice(0, 40)), at(40));
    // A snapshot of the store now: what a restore brings back.
    const restored = createMemoryReadModels();
    await restored.applyBatch(project(slice(0, 40)), at(40));
    await guard.readModels.applyBatch(project(slice(40, 80)), at(80));
    // The next batch's checkpoint stops at 80: a batch before it was still in flight when it was sent.
    await guard.readModels.applyBatch(project(slice(80, 100)), at(80));

    store.swap(restored);
    await guard.readModels.applyBatch(project(slice(100, 120)), at(120));

    const reference = createMemoryReadModels();
    await reference.applyBatch(project(log), at(120));
    expect(guard.replays()).toBe(1);
    expect(await contents(restored, log)).toEqual(await contents(reference, log));
  });
});
