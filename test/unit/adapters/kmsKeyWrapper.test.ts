import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { createKmsKeyWrapper, type KmsClientLike } from '#adapters/kms/kmsKeyWrapper';
import { isUnavailableError } from '#domain/errors';

const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/0b7d5a1e-2c4f-4e8a-9b1d-3f6e8a2c4d10';

/**
 * A stand-in for KMS that checks what the adapter sends: it "encrypts" by tagging the plaintext
 * with the encryption context, and refuses a Decrypt whose context differs, as KMS does. This
 * proves the adapter's requests, not KMS itself: there is no KMS to test against here.
 */
const fakeKms = (): KmsClientLike & { readonly sent: unknown[] } => {
  const sent: unknown[] = [];
  return {
    sent,
    async send(command) {
      sent.push(command);
      if (command instanceof EncryptCommand) {
        const { Plaintext, EncryptionContext } = command.input;
        return { CiphertextBlob: Buffer.concat([Buffer.from(`${JSON.stringify(EncryptionContext)}|`), Buffer.from(Plaintext!)]) };
      }
      if (command instanceof DecryptCommand) {
        const blob = Buffer.from(command.input.CiphertextBlob!);
        const at = blob.indexOf('|');
        if (blob.subarray(0, at).toString() !== JSON.stringify(command.input.EncryptionContext)) {
          throw Object.assign(new Error('context mismatch'), { name: 'InvalidCiphertextException' });
        }
        return { Plaintext: new Uint8Array(blob.subarray(at + 1)) };
      }
      throw new Error('unexpected command');
    },
  };
};

describe('KMS key wrapper (against a fake KMS client; real KMS is not reachable here)', () => {
  it('encrypts under the configured key with the user id in the encryption context, and decrypts back', async () => {
    const kms = fakeKms();
    const wrapper = createKmsKeyWrapper({ keyArn, client: kms });
    const key = new Uint8Array(32).fill(7);
    const wrapped = await wrapper.wrap(key, 'user-a');
    expect(await wrapper.unwrap(wrapped, 'user-a')).toEqual(key);
    const [encrypt, decrypt] = kms.sent as [EncryptCommand, DecryptCommand];
    expect(encrypt.input).toEqual({ KeyId: keyArn, Plaintext: key, EncryptionContext: { purpose: 'chronicle-user-data-key', userId: 'user-a' } });
    expect(decrypt.input.KeyId).toBe(keyArn);
  });

  it('does not unwrap a key for another user', async () => {
    const wrapper = createKmsKeyWrapper({ keyArn, client: fakeKms() });
    const wrapped = await wrapper.wrap(new Uint8Array(32), 'user-a');
    await expect(wrapper.unwrap(wrapped, 'user-b')).rejects.toThrow(/context mismatch/);
  });

  it('reports throttling as the store being unavailable (retryable)', async () => {
    const throttled: KmsClientLike = { send: async () => Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' })) };
    const error = await createKmsKeyWrapper({ keyArn, client: throttled })
      .wrap(new Uint8Array(32), 'user-a')
      .catch((e: unknown) => e);
    expect(isUnavailableError(error)).toBe(true);
  });
});
