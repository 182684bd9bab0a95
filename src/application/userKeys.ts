import type { PersonalDataKey } from '#domain/personalData';
import type { DataKeyStore } from '#ports/dataKeys';

/**
 * Users' data keys as the use cases need them: ready-to-use keys (the cipher is an adapter,
 * passed in as `open`), fetched once per user per call and cached with a bound.
 *
 * The cache holds only keys that exist, never an absence (a key created meanwhile by another
 * process must be seen at once), and forgets a key after `ttlMs`: a key destroyed by another
 * process lives on in this one's memory at most that long. Destroying through this object
 * forgets it here at once.
 */
export interface UserKeys {
  /** For writing: the user's key, created on first use. GoneError (USER_ERASED) once destroyed. */
  forWriting(userId: string): Promise<PersonalDataKey>;
  /** For reading: one entry per distinct user, null when the user has no key (destroyed, or never needed one). */
  forReading(userIds: readonly string[]): Promise<ReadonlyMap<string, PersonalDataKey | null>>;
  destroy(userId: string): Promise<void>;
  /** Drops a key from this process's cache (a reader that saw the user erased): it is not fetched again from a store that destroyed it. */
  forget(userId: string): void;
}

export interface UserKeysOptions {
  readonly store: DataKeyStore;
  /** Raw key → a key that seals and opens (src/adapters/crypto). */
  readonly open: (rawKey: Uint8Array) => PersonalDataKey;
  /** A fresh random data key. */
  readonly generate: () => Uint8Array;
  readonly cache?: { readonly maxEntries: number; readonly ttlMs: number };
  readonly now?: () => number;
}

export const DEFAULT_KEY_CACHE = { maxEntries: 100_000, ttlMs: 60_000 } as const;

export const createUserKeys = (options: UserKeysOptions): UserKeys => {
  const { store } = options;
  const { maxEntries, ttlMs } = options.cache ?? DEFAULT_KEY_CACHE;
  const now = options.now ?? Date.now;
  // Insertion order doubles as age: the oldest entry is the first one, and is evicted first.
  const cache = new Map<string, { readonly key: PersonalDataKey; readonly until: number }>();
  // Counts destructions through this object: a fetch that overlapped one is used but not cached,
  // so a key read just before its destruction cannot be put back into the cache just after it.
  let destructions = 0;

  // `at` is read once per call: the projector asks for a thousand users at a time.
  const cached = (userId: string, at: number): PersonalDataKey | undefined => {
    const entry = cache.get(userId);
    if (entry === undefined) return undefined;
    if (entry.until > at) return entry.key;
    cache.delete(userId);
    return undefined;
  };
  const remember = (userId: string, raw: Uint8Array, at: number, destructionsBefore: number): PersonalDataKey => {
    const key = options.open(raw);
    if (maxEntries <= 0 || destructions !== destructionsBefore) return key;
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(userId, { key, until: at + ttlMs });
    return key;
  };

  return {
    async forWriting(userId) {
      const before = destructions;
      return cached(userId, now()) ?? remember(userId, await store.getOrCreate(userId, options.generate), now(), before);
    },
    async forReading(userIds) {
      const result = new Map<string, PersonalDataKey | null>();
      const missing: string[] = [];
      const at = now();
      const before = destructions;
      for (const userId of userIds) {
        if (result.has(userId)) continue;
        const key = cached(userId, at);
        result.set(userId, key ?? null);
        if (key === undefined) missing.push(userId);
      }
      if (missing.length > 0) {
        const fetched = await store.getMany(missing);
        for (const userId of missing) {
          const raw = fetched.get(userId) ?? null;
          result.set(userId, raw === null ? null : remember(userId, raw, at, before));
        }
      }
      return result;
    },
    forget(userId) {
      cache.delete(userId);
    },
    async destroy(userId) {
      destructions++;
      cache.delete(userId);
      await store.destroy(userId);
      destructions++;
      cache.delete(userId);
    },
  };
};
