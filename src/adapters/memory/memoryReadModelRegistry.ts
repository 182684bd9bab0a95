import { activeVersionChanged, assertVersion, newVersionRecord, versionActive, versionNotFound } from '#adapters/shared/versionRegistry';
import type { ReadModelRegistry, ReadModelVersionRecord } from '#ports/readModels';
import { createMemoryReadModels, type MemoryReadModels } from './memoryReadModels.ts';

/** The in-memory twin of the registry, with one memory read model per version. */
export const createMemoryReadModelRegistry = (): ReadModelRegistry & { readModels(version: number): MemoryReadModels } => {
  const records = new Map<number, ReadModelVersionRecord>();
  const stores = new Map<number, MemoryReadModels>();
  let active: number | null = null;

  const readModels = (version: number): MemoryReadModels => {
    assertVersion(version);
    let store = stores.get(version);
    if (store === undefined) stores.set(version, (store = createMemoryReadModels()));
    return store;
  };
  const update = (record: ReadModelVersionRecord, state: ReadModelVersionRecord['state']): void =>
    void records.set(record.version, { ...record, state, updatedAt: new Date().toISOString() });

  return {
    async listVersions() {
      return [...records.values()].sort((a, b) => a.version - b.version);
    },
    async getVersion(version) {
      return records.get(version) ?? null;
    },
    async getActiveVersion() {
      return active;
    },
    async registerVersion(version, projection) {
      assertVersion(version);
      const existing = records.get(version);
      if (existing !== undefined) return { record: existing, created: false };
      const record = newVersionRecord(version, projection, new Date());
      records.set(version, record);
      return { record, created: true };
    },
    async setVersionState(version, state) {
      const record = records.get(version);
      if (record === undefined) throw versionNotFound(version);
      update(record, state);
    },
    async activateVersion(version, options = {}) {
      const record = records.get(version);
      if (record === undefined) throw versionNotFound(version);
      if (options.expectedActive !== undefined && options.expectedActive !== active) throw activeVersionChanged(options.expectedActive, active);
      const previous = active;
      const before = previous === null ? undefined : records.get(previous);
      if (before !== undefined && previous !== version) update(before, 'retired');
      update(record, 'live');
      active = version;
      return { previous };
    },
    async dropVersion(version, options = {}) {
      assertVersion(version);
      if (active === version) throw versionActive(version);
      const deleted = stores.has(version) ? 1 : 0;
      stores.delete(version);
      records.delete(version);
      options.onProgress?.(deleted);
      return deleted;
    },
    readModels,
    async close() {},
  };
};
