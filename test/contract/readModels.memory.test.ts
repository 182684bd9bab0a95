import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryReadModelRegistry } from '#adapters/memory/memoryReadModelRegistry';
import { createMemoryReadModels } from '#adapters/memory/memoryReadModels';
import { isUnavailableError } from '#domain/errors';
import type { ProjectedEvent } from '#ports/readModels';
import { describeReadModelRegistryContract } from './readModelRegistry.contract.ts';
import { describeReadModelsContract } from './readModels.contract.ts';

describeReadModelsContract('memory', async () => ({ readModels: createMemoryReadModels(), cleanup: async () => undefined }));

describe('memory read models with an injected failure', () => {
  it('fails the next batch with UnavailableError, writes nothing, then applies again', async () => {
    const readModels = createMemoryReadModels();
    const userId = randomUUID();
    const event: ProjectedEvent = {
      streamId: `user-${userId}`,
      revision: 0n,
      position: 1n,
      changes: [{ type: 'userCreated', user: { id: userId, email: 'a@example.com', displayName: 'A', status: 'active', emailVerified: false, registeredAt: '2024-01-01T00:00:00.000Z' } }],
    };
    readModels.failNextApplies();
    await expect(readModels.applyBatch([event], 1n)).rejects.toSatisfy(isUnavailableError);
    expect(await readModels.getCheckpoint()).toBeNull();
    expect(await readModels.applyBatch([event], 1n)).toEqual(['applied']);
  });
});

describeReadModelRegistryContract('memory', async () => {
  const registry = createMemoryReadModelRegistry();
  // One process: "another" registry is the same one.
  return { registry, versions: [1, 2, 3],
    deletesInBatches: false, openAnother: () => ({ ...registry, close: async () => undefined }), cleanup: async () => undefined };
});
