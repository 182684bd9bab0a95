import { GoneError } from '#domain/errors';
import type { DataKeyStore, KeyWrapper } from '#ports/dataKeys';

const erased = (userId: string): GoneError => new GoneError('USER_ERASED', `user ${userId} was erased`, { userId });

/** The in-memory twin of the key stores, held to the same contract suite. Keys are kept wrapped, as everywhere. */
export const createMemoryDataKeyStore = (wrapper: KeyWrapper): DataKeyStore => {
  // Wrapped key, or null once destroyed (destroyed is terminal).
  const keys = new Map<string, Uint8Array | null>();
  return {
    async getOrCreate(userId, fresh) {
      const stored = keys.get(userId);
      if (stored === null) throw erased(userId);
      if (stored !== undefined) return wrapper.unwrap(stored, userId);
      const key = fresh();
      const wrapped = await wrapper.wrap(key, userId);
      // Another caller may have stored one while this one wrapped: the first stored wins.
      const now = keys.get(userId);
      if (now === null) throw erased(userId);
      if (now !== undefined) return wrapper.unwrap(now, userId);
      keys.set(userId, wrapped);
      return key;
    },
    async getMany(userIds) {
      const result = new Map<string, Uint8Array | null>();
      for (const userId of userIds) {
        if (result.has(userId)) continue;
        const stored = keys.get(userId);
        result.set(userId, stored === undefined || stored === null ? null : await wrapper.unwrap(stored, userId));
      }
      return result;
    },
    async destroy(userId) {
      keys.get(userId)?.fill(0);
      keys.set(userId, null);
    },
    async close() {},
  };
};
