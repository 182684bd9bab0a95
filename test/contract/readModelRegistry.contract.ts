import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isChronicleError } from '#domain/errors';
import type { ProjectedEvent, ReadModelRegistry } from '#ports/readModels';

/** A registry over an empty read store, and three version numbers no other test uses. */
export interface ReadModelRegistryFixture {
  readonly registry: ReadModelRegistry;
  readonly versions: readonly [number, number, number];
  /** Whether the store deletes a version piece by piece (not the memory twin, which drops it at once). */
  readonly deletesInBatches: boolean;
  /** A second registry on the same store (another process), for atomicity checks. */
  openAnother(): ReadModelRegistry;
  cleanup(): Promise<void>;
}

const codeOf = async (work: Promise<unknown>): Promise<unknown> => {
  const error = await work.then(() => null, (e: unknown) => e);
  return isChronicleError(error) ? error.code : error;
};

const registration = (index: number): ProjectedEvent => {
  const id = randomUUID();
  return {
    streamId: `user-${id}`,
    revision: 0n,
    position: BigInt(index + 1),
    changes: [{ type: 'userCreated', user: { id, email: `${id.slice(0, 8)}@example.com`, displayName: 'R', status: 'active', emailVerified: false, registeredAt: '2026-01-01T00:00:00.000Z' } }],
  };
};

/** The version registry of blue/green read models (ReadModelRegistry), the same for every adapter. */
export const describeReadModelRegistryContract = (name: string, setup: () => Promise<ReadModelRegistryFixture>): void => {
  describe(`read-model registry (${name})`, () => {
    let fixture: ReadModelRegistryFixture | undefined;
    let registry: ReadModelRegistry;
    let v: readonly [number, number, number];

    beforeEach(async () => {
      fixture = await setup();
      registry = fixture.registry;
      v = fixture.versions;
    });
    afterEach(async () => {
      await fixture?.cleanup();
    });

    it('starts empty, with no active version', async () => {
      expect(await registry.listVersions()).toEqual([]);
      expect(await registry.getActiveVersion()).toBeNull();
      expect(await registry.getVersion(v[0])).toBeNull();
    });

    it('registers a version as building, once', async () => {
      const first = await registry.registerVersion(v[0], 7);
      expect(first).toMatchObject({ created: true, record: { version: v[0], state: 'building', projection: 7 } });
      await registry.setVersionState(v[0], 'live');
      const again = await registry.registerVersion(v[0], 8);
      expect(again).toMatchObject({ created: false, record: { version: v[0], state: 'live', projection: 7 } });
      expect((await registry.listVersions()).map((record) => record.version)).toEqual([v[0]]);
    });

    it('lets exactly one of several concurrent registrations create the version', async () => {
      const others = [fixture?.openAnother(), fixture?.openAnother()].filter((r): r is ReadModelRegistry => r !== undefined);
      try {
        const results = await Promise.all([registry, ...others, registry].map((r) => r.registerVersion(v[1], 1)));
        expect(results.filter((result) => result.created)).toHaveLength(1);
      } finally {
        await Promise.all(others.map((other) => other.close()));
      }
    });

    it('activates atomically: the new version live, the one before it retired', async () => {
      await registry.registerVersion(v[0], 1);
      await registry.registerVersion(v[1], 1);
      expect(await registry.activateVersion(v[0])).toEqual({ previous: null });
      expect(await registry.getActiveVersion()).toBe(v[0]);
      expect(await registry.activateVersion(v[1], { expectedActive: v[0] })).toEqual({ previous: v[0] });
      expect(await registry.getActiveVersion()).toBe(v[1]);
      expect((await registry.listVersions()).map((record) => [record.version, record.state])).toEqual([
        [v[0], 'retired'],
        [v[1], 'live'],
      ]);
    });

    it('refuses an activation whose expected active version is no longer active, changing nothing', async () => {
      await registry.registerVersion(v[0], 1);
      await registry.registerVersion(v[1], 1);
      await registry.activateVersion(v[0]);
      expect(await codeOf(registry.activateVersion(v[1], { expectedActive: null }))).toBe('ACTIVE_VERSION_CHANGED');
      expect(await codeOf(registry.activateVersion(v[1], { expectedActive: v[2] }))).toBe('ACTIVE_VERSION_CHANGED');
      expect(await registry.getActiveVersion()).toBe(v[0]);
      expect((await registry.getVersion(v[1]))?.state).toBe('building');
    });

    it('answers VERSION_NOT_FOUND for a version never registered', async () => {
      expect(await codeOf(registry.activateVersion(v[2]))).toBe('VERSION_NOT_FOUND');
      expect(await codeOf(registry.setVersionState(v[2], 'live'))).toBe('VERSION_NOT_FOUND');
      expect(await registry.getActiveVersion()).toBeNull();
    });

    it('keeps each version’s read models apart', async () => {
      const event = registration(0);
      await registry.readModels(v[0]).applyBatch([event], 1n);
      const user = event.changes[0]?.type === 'userCreated' ? event.changes[0].user : undefined;
      expect(await registry.readModels(v[0]).getUser(user?.id ?? '')).not.toBeNull();
      expect(await registry.readModels(v[1]).getUser(user?.id ?? '')).toBeNull();
      expect(await registry.readModels(v[1]).getCheckpoint()).toBeNull();
    });

    it('drops a version in bounded batches, reporting progress, and refuses the active one', async () => {
      await registry.registerVersion(v[0], 1);
      await registry.registerVersion(v[1], 1);
      await registry.activateVersion(v[1]);
      const events = Array.from({ length: 12 }, (_, i) => registration(i));
      await registry.readModels(v[0]).applyBatch(events, 12n);
      await registry.readModels(v[1]).applyBatch(events.slice(0, 1), 1n);

      expect(await codeOf(registry.dropVersion(v[1]))).toBe('VERSION_ACTIVE');
      const progress: number[] = [];
      const deleted = await registry.dropVersion(v[0], { batchSize: 5, onProgress: (count) => progress.push(count) });
      expect(deleted).toBeGreaterThan(0);
      expect(progress.at(-1)).toBe(deleted);
      if (fixture?.deletesInBatches === true) expect(progress.length).toBeGreaterThan(1);
      expect(await registry.getVersion(v[0])).toBeNull();
      const fresh = fixture?.openAnother() ?? registry;
      try {
        expect(await fresh.readModels(v[0]).getCheckpoint()).toBeNull();
        expect(await fresh.readModels(v[0]).countUsers('active')).toBe(0);
        expect(await fresh.readModels(v[1]).countUsers('active')).toBe(1);
      } finally {
        if (fresh !== registry) await fresh.close();
      }
    });
  });
};
