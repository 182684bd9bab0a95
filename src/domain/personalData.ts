import type { UserEventType } from './userEvents.ts';

/**
 * Crypto-shredding, as the domain sees it: every personal field of a user event is sealed with
 * that user's data key before it is stored, and destroying the key makes them unreadable for
 * good. The cipher itself is an adapter (src/adapters/crypto); the domain only asks a key, already
 * fetched, to seal and open text bound to a context, so encoding and decoding stay synchronous
 * and pure.
 */
export interface PersonalDataKey {
  /** Ciphertext of `plaintext` that opens only with this key and the same `context`. */
  seal(plaintext: string, context: string): string;
  /** Throws when the ciphertext was altered, moved to another context, or sealed with another key. */
  open(sealed: string, context: string): string;
}

/** Fields that identify a person, per event type: sealed on write, null once the key is gone. */
export const PERSONAL_FIELDS: Readonly<Record<UserEventType, readonly string[]>> = {
  UserRegistered: ['email', 'displayName'],
  EmailChanged: ['email'],
  EmailVerified: ['email'],
  UserSuspended: ['reason'],
  UserReactivated: [],
  UserErased: [],
};

/** Where a stored event keeps its sealed personal fields (one ciphertext of a JSON object). */
export const SEALED_FIELD = 'personalData';

/** Additional authenticated data: a ciphertext opens only in the stream and event type it was sealed for. */
export const sealingContext = (streamId: string, type: string): string => `${streamId}\n${type}`;
