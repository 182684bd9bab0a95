/**
 * Where each user's data key lives (crypto-shredding). A key is 32 random bytes; deleting it must
 * be physical and final, because destroying it is what erases the user's personal data from an
 * append-only log. A key has three states: absent, present, destroyed; destroyed is terminal.
 *
 * Adapters store keys wrapped (KeyWrapper) and hand them out unwrapped; they translate their
 * client's errors (an unreachable store is an UnavailableError).
 */
export interface DataKeyStore {
  /**
   * The user's key, created (from `fresh`, called at most once) when none exists. Two callers
   * racing for a new user's key both get the one that was stored first. Throws a GoneError
   * (USER_ERASED) when the key was destroyed.
   */
  getOrCreate(userId: string, fresh: () => Uint8Array): Promise<Uint8Array>;
  /** The keys of these users, one entry per distinct id: null when absent or destroyed. */
  getMany(userIds: readonly string[]): Promise<Map<string, Uint8Array | null>>;
  /** Destroys the user's key for good (also when none was ever created). Idempotent. */
  destroy(userId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Envelope encryption of data keys: a store holds only wrapped keys, so a copy of the store (a
 * backup, a replica, a scavenge that has not run yet) is useless without the wrapping key. The
 * user id is bound into the wrapping, so a wrapped key cannot be moved to another user.
 */
export interface KeyWrapper {
  wrap(key: Uint8Array, userId: string): Promise<Uint8Array>;
  unwrap(wrapped: Uint8Array, userId: string): Promise<Uint8Array>;
}
