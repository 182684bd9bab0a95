import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesGcmPersonalDataKey, newDataKey } from '#adapters/crypto/aesGcmPersonalDataKey';
import { createLocalKeyWrapper } from '#adapters/crypto/localKeyWrapper';
import { createMemoryDataKeyStore } from '#adapters/memory/memoryDataKeyStore';
import { projectStoredEvent, userBatchProjection } from '#application/userProjection';
import { encodeUserEvent } from '#domain/userEventCodec';
import type { UserEvent } from '#domain/userEvents';
import type { StoredEvent } from '#ports/eventStore';
import { memoryUserKeys } from '#test/support/memoryUserKeys';

let position = 0n;
const storedOf = (event: UserEvent, sealed: ReturnType<typeof encodeUserEvent>, revision = 0n): StoredEvent => ({
  id: randomUUID(),
  streamId: `user-${event.data.userId}`,
  type: sealed.type,
  revision,
  position: ++position,
  data: sealed.data,
  metadata: { schemaVersion: sealed.schemaVersion },
  recordedAt: new Date(0),
});

const registration = (userId: string): UserEvent => ({
  type: 'UserRegistered',
  data: { userId, email: `${userId.slice(0, 8)}@example.com`, displayName: 'Someone', registeredAt: '2026-11-30T00:00:00.000Z' },
});

/** Keys whose reads are counted: how many fetches, of which users. */
const countedKeys = () => {
  const keys = memoryUserKeys();
  const asked: string[][] = [];
  return { keys, asked, reader: { forReading: (userIds: readonly string[]) => (asked.push([...userIds]), keys.forReading(userIds)), forget: keys.forget } };
};

describe('the projector’s per-batch projection', () => {
  it('fetches the keys of the users with sealed events once for the whole batch, and opens them', async () => {
    const { keys, asked, reader } = countedKeys();
    const [a, b, legacy] = [randomUUID(), randomUUID(), randomUUID()];
    const sealedA = storedOf(registration(a), encodeUserEvent(registration(a), await keys.forWriting(a)));
    const suspendA: UserEvent = { type: 'UserSuspended', data: { userId: a, reason: 'r', suspendedAt: 't' } };
    const sealedA2 = storedOf(suspendA, encodeUserEvent(suspendA, await keys.forWriting(a)), 1n);
    const sealedB = storedOf(registration(b), encodeUserEvent(registration(b), await keys.forWriting(b)));
    const plaintext = storedOf(registration(legacy), { type: 'UserRegistered', schemaVersion: 1, data: { ...registration(legacy).data } });

    const project = await userBatchProjection(reader)([sealedA, sealedA2, sealedB, plaintext]);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.sort()).toEqual([a, b].sort());
    expect(project(sealedA).changes).toEqual([{ type: 'userCreated', user: expect.objectContaining({ id: a, email: `${a.slice(0, 8)}@example.com` }) }]);
    expect(project(plaintext).changes).toEqual([{ type: 'userCreated', user: expect.objectContaining({ id: legacy }) }]);
  });

  it('projects an erased user’s sealed events to nothing, and its UserErased to a removal', async () => {
    const { keys, reader } = countedKeys();
    const userId = randomUUID();
    const sealed = storedOf(registration(userId), encodeUserEvent(registration(userId), await keys.forWriting(userId)));
    const erased: UserEvent = { type: 'UserErased', data: { userId, erasedAt: 't' } };
    const erasedStored = storedOf(erased, encodeUserEvent(erased, null), 1n);
    await keys.destroy(userId);
    const project = await userBatchProjection(reader)([sealed, erasedStored]);
    expect(project(sealed).changes).toEqual([]);
    expect(project(erasedStored).changes).toEqual([{ type: 'userErased', userId }]);
  });

  it('drops an erased user’s key from the cache when it projects the erasure', async () => {
    const store = createMemoryDataKeyStore(createLocalKeyWrapper(randomBytes(32)));
    const fetched: string[] = [];
    const keys = memoryUserKeys({ ...store, getMany: (userIds) => (fetched.push(...userIds), store.getMany(userIds)) });
    const userId = randomUUID();
    const sealed = storedOf(registration(userId), encodeUserEvent(registration(userId), await keys.forWriting(userId)));
    const erased: UserEvent = { type: 'UserErased', data: { userId, erasedAt: 't' } };
    const erasedStored = storedOf(erased, encodeUserEvent(erased, null), 1n);
    await userBatchProjection(keys)([sealed]);
    await userBatchProjection(keys)([sealed]);
    expect(fetched).toEqual([]);
    // The batch that holds the erasure still opens the events before it.
    const project = await userBatchProjection(keys)([sealed, erasedStored]);
    expect(project(sealed).changes).toHaveLength(1);
    await userBatchProjection(keys)([sealed]);
    expect(fetched).toEqual([userId]);
  });

  it('treats a sealed event as poison when the projector was given no keys', () => {
    const userId = randomUUID();
    const sealed = storedOf(registration(userId), encodeUserEvent(registration(userId), aesGcmPersonalDataKey(newDataKey())));
    expect(() => projectStoredEvent(sealed)).toThrow(/no data keys/);
  });
});
