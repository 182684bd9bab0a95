import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGoneError } from '#domain/errors';
import { createLocalKeyWrapper } from '#adapters/crypto/localKeyWrapper';
import type { DataKeyStore, KeyWrapper } from '#ports/dataKeys';

export interface DataKeyStoreFixture {
  readonly store: DataKeyStore;
  /**
   * Whether these bytes are still anywhere the adapter keeps data (files, log records), after
   * whatever a production operator runs to make deletion physical (a scavenge). Omitted where
   * storage is not inspectable.
   */
  readonly storageHolds?: (needle: Uint8Array) => Promise<boolean>;
  teardown(): Promise<void>;
}

/** A wrapper that remembers what it wrapped, so a test can look for those bytes in storage. */
export const recordingWrapper = (): KeyWrapper & { readonly wrapped: Map<string, Uint8Array> } => {
  const inner = createLocalKeyWrapper(randomBytes(32));
  const wrapped = new Map<string, Uint8Array>();
  return {
    wrapped,
    async wrap(key, userId) {
      const bytes = await inner.wrap(key, userId);
      wrapped.set(userId, bytes);
      return bytes;
    },
    unwrap: (bytes, userId) => inner.unwrap(bytes, userId),
  };
};

/** What every data-key store must do: keys are created once, shared by racers, and destroyed for good. */
export const describeDataKeyStoreContract = (name: string, setup: (wrapper: ReturnType<typeof recordingWrapper>) => Promise<DataKeyStoreFixture>): void => {
  describe(`data key store contract: ${name}`, () => {
    let fixture: DataKeyStoreFixture;
    let store: DataKeyStore;
    let wrapper: ReturnType<typeof recordingWrapper>;
    const fresh = (): Uint8Array => new Uint8Array(randomBytes(32));

    beforeEach(async () => {
      wrapper = recordingWrapper();
      fixture = await setup(wrapper);
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.teardown();
    });

    describe('when a user has no key yet', () => {
      it('creates one from the fresh key given, and answers the same key from then on', async () => {
        const userId = randomUUID();
        const key = fresh();
        expect(await store.getOrCreate(userId, () => key)).toEqual(key);
        expect(await store.getOrCreate(userId, fresh)).toEqual(key);
        expect((await store.getMany([userId])).get(userId)).toEqual(key);
      });

      it('reads as null', async () => {
        const userId = randomUUID();
        expect(await store.getMany([userId])).toEqual(new Map([[userId, null]]));
      });

      it('gives racing creators the one key that was stored first', async () => {
        const userId = randomUUID();
        const keys = await Promise.all(Array.from({ length: 5 }, () => store.getOrCreate(userId, fresh)));
        for (const key of keys) expect(key).toEqual(keys[0]);
        expect((await store.getMany([userId])).get(userId)).toEqual(keys[0]);
      });
    });

    it('keeps each user’s key apart, and answers each distinct user once', async () => {
      const [alice, bob, nobody] = [randomUUID(), randomUUID(), randomUUID()];
      const aliceKey = await store.getOrCreate(alice, fresh);
      const bobKey = await store.getOrCreate(bob, fresh);
      expect(aliceKey).not.toEqual(bobKey);
      const many = await store.getMany([alice, bob, nobody, alice]);
      expect([...many.keys()].sort()).toEqual([alice, bob, nobody].sort());
      expect(many.get(alice)).toEqual(aliceKey);
      expect(many.get(bob)).toEqual(bobKey);
      expect(many.get(nobody)).toBeNull();
    });

    it('stores keys wrapped, never in the clear', async () => {
      const userId = randomUUID();
      const key = await store.getOrCreate(userId, fresh);
      expect(wrapper.wrapped.has(userId)).toBe(true);
      if (fixture.storageHolds !== undefined) expect(await fixture.storageHolds(key)).toBe(false);
    });

    describe('when a key is destroyed', () => {
      it('reads as null and can never be created again', async () => {
        const userId = randomUUID();
        await store.getOrCreate(userId, fresh);
        await store.destroy(userId);
        expect((await store.getMany([userId])).get(userId)).toBeNull();
        const error = await store.getOrCreate(userId, fresh).catch((e: unknown) => e);
        expect(isGoneError(error) && error.code).toBe('USER_ERASED');
      });

      it('is idempotent, and works for a user that never had a key', async () => {
        const [userId, neverKeyed] = [randomUUID(), randomUUID()];
        await store.getOrCreate(userId, fresh);
        await store.destroy(userId);
        await store.destroy(userId);
        await store.destroy(neverKeyed);
        expect(isGoneError(await store.getOrCreate(neverKeyed, fresh).catch((e: unknown) => e))).toBe(true);
      });

      it('leaves the other users’ keys alone', async () => {
        const [gone, kept] = [randomUUID(), randomUUID()];
        await store.getOrCreate(gone, fresh);
        const keptKey = await store.getOrCreate(kept, fresh);
        await store.destroy(gone);
        expect((await store.getMany([kept])).get(kept)).toEqual(keptKey);
      });

      it('leaves no byte of the wrapped key in storage', async ({ skip }) => {
        if (fixture.storageHolds === undefined) return skip('storage is not inspectable');
        const userId = randomUUID();
        await store.getOrCreate(userId, fresh);
        const wrapped = wrapper.wrapped.get(userId)!;
        expect(await fixture.storageHolds(wrapped)).toBe(true);
        await store.destroy(userId);
        expect(await fixture.storageHolds(wrapped)).toBe(false);
      });
    });
  });
};
