import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesGcmPersonalDataKey, newDataKey } from '#adapters/crypto/aesGcmPersonalDataKey';
import { createLocalKeyWrapper } from '#adapters/crypto/localKeyWrapper';
import { createMemoryDataKeyStore } from '#adapters/memory/memoryDataKeyStore';
import { createUserKeys } from '#application/userKeys';
import type { DataKeyStore } from '#ports/dataKeys';

/** A key store that counts how often each user's key is fetched. */
const countingStore = () => {
  const inner = createMemoryDataKeyStore(createLocalKeyWrapper(randomBytes(32)));
  const fetched: string[] = [];
  const store: DataKeyStore = {
    ...inner,
    getMany: async (userIds) => {
      fetched.push(...userIds);
      return inner.getMany(userIds);
    },
  };
  return { store, fetched };
};

describe('users’ data keys', () => {
  it('fetches each user once per call, and not again while cached', async () => {
    const { store, fetched } = countingStore();
    const keys = createUserKeys({ store, open: aesGcmPersonalDataKey, generate: newDataKey });
    const [a, b] = [randomUUID(), randomUUID()];
    await store.getOrCreate(a, newDataKey);
    await store.getOrCreate(b, newDataKey);
    await keys.forReading([a, b, a, a]);
    await keys.forReading([a, b]);
    expect(fetched.sort()).toEqual([a, b].sort());
  });

  it('never caches an absent key: one created meanwhile elsewhere is seen at once', async () => {
    const { store } = countingStore();
    const keys = createUserKeys({ store, open: aesGcmPersonalDataKey, generate: newDataKey });
    const userId = randomUUID();
    expect((await keys.forReading([userId])).get(userId)).toBeNull();
    await store.getOrCreate(userId, newDataKey);
    expect((await keys.forReading([userId])).get(userId)).not.toBeNull();
  });

  it('keeps at most maxEntries keys and forgets them after ttlMs', async () => {
    const { store, fetched } = countingStore();
    let clock = 0;
    const keys = createUserKeys({ store, open: aesGcmPersonalDataKey, generate: newDataKey, cache: { maxEntries: 2, ttlMs: 1000 }, now: () => clock });
    const users = [randomUUID(), randomUUID(), randomUUID()];
    for (const userId of users) await store.getOrCreate(userId, newDataKey);
    await keys.forReading(users);
    fetched.length = 0;
    await keys.forReading(users.slice(1));
    expect(fetched).toEqual([]);
    await keys.forReading([users[0]!]);
    expect(fetched).toEqual([users[0]]);
    clock = 1001;
    fetched.length = 0;
    await keys.forReading([users[0]!]);
    expect(fetched).toEqual([users[0]]);
  });

  it('forgets a key it destroys at once', async () => {
    const { store } = countingStore();
    const keys = createUserKeys({ store, open: aesGcmPersonalDataKey, generate: newDataKey });
    const userId = randomUUID();
    await keys.forWriting(userId);
    await keys.destroy(userId);
    expect((await keys.forReading([userId])).get(userId)).toBeNull();
  });

  it('does not keep a key whose fetch overlapped its destruction', async () => {
    const { store } = countingStore();
    const userId = randomUUID();
    await store.getOrCreate(userId, newDataKey);
    // The fetch answers only after the destruction has completed, as a slow read racing an erasure would.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowStore: DataKeyStore = { ...store, getMany: async (userIds) => store.getMany(userIds).then(async (found) => (await gate, found)) };
    const keys = createUserKeys({ store: slowStore, open: aesGcmPersonalDataKey, generate: newDataKey });
    const racing = keys.forReading([userId]);
    await keys.destroy(userId);
    release();
    expect((await racing).get(userId)).not.toBeNull();
    expect((await keys.forReading([userId])).get(userId)).toBeNull();
  });
});
