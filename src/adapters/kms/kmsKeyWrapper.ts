import type * as KmsSdk from '@aws-sdk/client-kms';
import { UnavailableError } from '#domain/errors';
import type { KeyWrapper } from '#ports/dataKeys';
import { createLocalKeyWrapper } from '#adapters/crypto/localKeyWrapper';

/** The part of the KMS client this adapter uses (a test passes a fake; production the real SDK client). */
export interface KmsClientLike {
  send(command: unknown): Promise<{ CiphertextBlob?: Uint8Array; Plaintext?: Uint8Array }>;
}

/** Bounds on the cached key-encryption keys (see createKmsKeyWrapper). */
export interface KeyEncryptionKeyCache {
  /** How long one key-encryption key wraps new data keys before KMS is asked for the next one. */
  readonly wrapForMs: number;
  /** How many data keys one key-encryption key wraps at most. */
  readonly maxWraps: number;
  /** How many unwrapped key-encryption keys this process keeps for unwrapping, and for how long. */
  readonly maxEntries: number;
  readonly ttlMs: number;
}

export const DEFAULT_KEK_CACHE: KeyEncryptionKeyCache = { wrapForMs: 15 * 60_000, maxWraps: 100_000, maxEntries: 1_000, ttlMs: 60 * 60_000 };

export interface KmsKeyWrapperOptions {
  /** DATA_KEY_KMS_KEY_ARN: the symmetric KMS key the deployment created for wrapping data keys. */
  readonly keyArn: string;
  /** Default: a client from @aws-sdk/client-kms, loaded on first use (bundles without KMS never load it). */
  readonly client?: KmsClientLike;
  readonly cache?: KeyEncryptionKeyCache;
  readonly now?: () => number;
}

type KmsModule = typeof KmsSdk;

const TRANSIENT = new Set(['ThrottlingException', 'KMSInternalException', 'DependencyTimeoutException', 'TimeoutError', 'NetworkingError']);

/**
 * Marks a data key wrapped under a cached key-encryption key: `CKEK` 0x01, the KEK's KMS
 * ciphertext (2-byte length, then the blob), then the data key sealed under the KEK. A data key
 * wrapped by KMS itself (the earlier format) is a bare KMS ciphertext blob, whose first byte is
 * KMS's format version (0x01), never `C`.
 */
const MAGIC = Buffer.from([0x43, 0x4b, 0x45, 0x4b, 0x01]);
const KEK_CONTEXT = { purpose: 'chronicle-key-encryption-key' } as const;
const userContext = (userId: string): Record<string, string> => ({ purpose: 'chronicle-user-data-key', userId });

interface Kek {
  readonly blob: Buffer;
  readonly wrapper: KeyWrapper;
}

/**
 * Envelope encryption on AWS, in two levels. KMS generates a key-encryption key (KEK) and returns
 * it both in clear and encrypted under the KMS key; each user's data key is wrapped locally under
 * the KEK with AES-256-GCM, the user id bound as additional authenticated data, and stored
 * together with the KEK's KMS ciphertext. So KMS is called once per KEK, not once per user: a
 * process wraps new users' keys under one KEK for `wrapForMs` or `maxWraps`, and unwraps every key
 * of a KEK it has already decrypted without calling KMS (a bounded cache, entries expiring after
 * `ttlMs`). The projector, which unwraps a key per new user, no longer makes a KMS call each.
 *
 * What stays: the data keys exist in clear only in this process; a copy of the key store is
 * useless without KMS; KMS never sees personal data; erasure is still the destruction of the
 * wrapped data key in the key store (the KEK cannot bring it back). What changes: CloudTrail
 * records a Decrypt per KEK, no longer one naming each user. Data keys wrapped by KMS directly
 * (before this) still unwrap, with one KMS call each, as before.
 */
export const createKmsKeyWrapper = (options: KmsKeyWrapperOptions): KeyWrapper => {
  const limits = options.cache ?? DEFAULT_KEK_CACHE;
  const now = options.now ?? Date.now;
  let loaded: Promise<{ client: KmsClientLike; kms: KmsModule }> | null = null;
  const load = (): Promise<{ client: KmsClientLike; kms: KmsModule }> =>
    (loaded ??= import('@aws-sdk/client-kms').then((kms) => ({ kms, client: options.client ?? new kms.KMSClient({}) })));

  const call = async <T>(operation: string, run: (loaded: { client: KmsClientLike; kms: KmsModule }) => Promise<T>): Promise<T> => {
    try {
      return await run(await load());
    } catch (error) {
      if (error instanceof Error && TRANSIENT.has(error.name)) throw new UnavailableError(`KMS is unavailable (${operation}): ${error.message}`, { store: 'kms', operation });
      throw error;
    }
  };

  const decrypt = (blob: Uint8Array, context: Record<string, string>): Promise<Uint8Array> =>
    call('Decrypt', async ({ client, kms }) => {
      const answer = await client.send(new kms.DecryptCommand({ KeyId: options.keyArn, CiphertextBlob: blob, EncryptionContext: context }));
      if (answer.Plaintext === undefined) throw new Error('KMS Decrypt answered without a Plaintext');
      return answer.Plaintext;
    });

  // KEKs by their KMS ciphertext (base64). Insertion order is age: the oldest is evicted first.
  // A pending Decrypt is shared, so a batch of keys under one new KEK makes one KMS call.
  const keks = new Map<string, { readonly kek: Promise<Kek>; readonly until: number }>();
  const remember = (blob: Buffer, kek: Promise<Kek>): void => {
    const id = blob.toString('base64');
    if (keks.size >= limits.maxEntries) keks.delete(keks.keys().next().value as string);
    keks.set(id, { kek, until: now() + limits.ttlMs });
    kek.catch(() => keks.delete(id));
  };
  const kekOf = (blob: Buffer, plaintext: Uint8Array): Kek => ({ blob, wrapper: createLocalKeyWrapper(plaintext) });

  let current: { readonly kek: Promise<Kek>; readonly until: number; wraps: number } | null = null;
  const kekForWrapping = (): Promise<Kek> => {
    if (current !== null && current.until > now() && current.wraps < limits.maxWraps) {
      current.wraps++;
      return current.kek;
    }
    const kek = call('GenerateDataKey', async ({ client, kms }) => {
      const answer = await client.send(new kms.GenerateDataKeyCommand({ KeyId: options.keyArn, KeySpec: 'AES_256', EncryptionContext: KEK_CONTEXT }));
      if (answer.CiphertextBlob === undefined || answer.Plaintext === undefined) throw new Error('KMS GenerateDataKey answered without a key');
      const generated = kekOf(Buffer.from(answer.CiphertextBlob), answer.Plaintext);
      remember(generated.blob, Promise.resolve(generated));
      return generated;
    });
    current = { kek, until: now() + limits.wrapForMs, wraps: 1 };
    kek.catch(() => {
      if (current?.kek === kek) current = null;
    });
    return kek;
  };
  const kekForUnwrapping = (blob: Buffer): Promise<Kek> => {
    const entry = keks.get(blob.toString('base64'));
    if (entry !== undefined && entry.until > now()) return entry.kek;
    const kek = decrypt(blob, KEK_CONTEXT).then((plaintext) => kekOf(blob, plaintext));
    remember(blob, kek);
    return kek;
  };

  return {
    async wrap(key, userId) {
      const kek = await kekForWrapping();
      const sealed = await kek.wrapper.wrap(key, userId);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(kek.blob.length);
      return Buffer.concat([MAGIC, length, kek.blob, sealed]);
    },
    async unwrap(wrapped, userId) {
      const bytes = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
      if (bytes.length < MAGIC.length + 2 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return decrypt(wrapped, userContext(userId));
      const blobEnd = MAGIC.length + 2 + bytes.readUInt16BE(MAGIC.length);
      if (blobEnd >= bytes.length) throw new Error('wrapped data key is truncated');
      const kek = await kekForUnwrapping(Buffer.from(bytes.subarray(MAGIC.length + 2, blobEnd)));
      return kek.wrapper.unwrap(bytes.subarray(blobEnd), userId);
    },
  };
};
