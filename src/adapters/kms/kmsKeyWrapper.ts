import type * as KmsSdk from '@aws-sdk/client-kms';
import { UnavailableError } from '#domain/errors';
import type { KeyWrapper } from '#ports/dataKeys';

/** The part of the KMS client this adapter uses (a test passes a fake; production the real SDK client). */
export interface KmsClientLike {
  send(command: unknown): Promise<{ CiphertextBlob?: Uint8Array; Plaintext?: Uint8Array }>;
}

export interface KmsKeyWrapperOptions {
  /** DATA_KEY_KMS_KEY_ARN: the symmetric KMS key the deployment created for wrapping data keys. */
  readonly keyArn: string;
  /** Default: a client from @aws-sdk/client-kms, loaded on first use (bundles without KMS never load it). */
  readonly client?: KmsClientLike;
}

type KmsModule = typeof KmsSdk;

const TRANSIENT = new Set(['ThrottlingException', 'KMSInternalException', 'DependencyTimeoutException', 'TimeoutError', 'NetworkingError']);

/**
 * Envelope encryption on AWS: each data key is encrypted by KMS under one KMS key, with the user
 * id in the encryption context (so a wrapped key only unwraps for its own user, and CloudTrail
 * names the user on every unwrap). The plaintext key never leaves this process; KMS never sees
 * personal data.
 */
export const createKmsKeyWrapper = (options: KmsKeyWrapperOptions): KeyWrapper => {
  let loaded: Promise<{ client: KmsClientLike; kms: KmsModule }> | null = null;
  const load = (): Promise<{ client: KmsClientLike; kms: KmsModule }> =>
    (loaded ??= import('@aws-sdk/client-kms').then((kms) => ({ kms, client: options.client ?? new kms.KMSClient({}) })));
  const context = (userId: string): Record<string, string> => ({ purpose: 'chronicle-user-data-key', userId });

  const call = async <T>(operation: string, run: (loaded: { client: KmsClientLike; kms: KmsModule }) => Promise<T>): Promise<T> => {
    try {
      return await run(await load());
    } catch (error) {
      if (error instanceof Error && TRANSIENT.has(error.name)) throw new UnavailableError(`KMS is unavailable (${operation}): ${error.message}`, { store: 'kms', operation });
      throw error;
    }
  };

  return {
    wrap: (key, userId) =>
      call('Encrypt', async ({ client, kms }) => {
        const answer = await client.send(new kms.EncryptCommand({ KeyId: options.keyArn, Plaintext: key, EncryptionContext: context(userId) }));
        if (answer.CiphertextBlob === undefined) throw new Error('KMS Encrypt answered without a CiphertextBlob');
        return answer.CiphertextBlob;
      }),
    unwrap: (wrapped, userId) =>
      call('Decrypt', async ({ client, kms }) => {
        const answer = await client.send(new kms.DecryptCommand({ KeyId: options.keyArn, CiphertextBlob: wrapped, EncryptionContext: context(userId) }));
        if (answer.Plaintext === undefined) throw new Error('KMS Decrypt answered without a Plaintext');
        return answer.Plaintext;
      }),
  };
};
