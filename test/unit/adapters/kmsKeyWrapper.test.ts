import { randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { createKmsKeyWrapper, type KeyEncryptionKeyCache, type KmsClientLike } from '#adapters/kms/kmsKeyWrapper';
import { isUnavailableError } from '#domain/errors';

const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/0b7d5a1e-2c4f-4e8a-9b1d-3f6e8a2c4d10';

/**
 * A stand-in for KMS that checks what the adapter sends: it "encrypts" by tagging the plaintext
 * with the encryption context, and refuses a Decrypt whose context differs, as KMS does. This
 * proves the adapter's requests, not KMS itself: there is no KMS to test against here.
 */
const fakeKms = (): KmsClientLike & { readonly sent: unknown[] } => {
  const sent: unknown[] = [];
  const blobOf = (context: unknown, plaintext: Uint8Array): Uint8Array => Buffer.concat([Buffer.from([0x01]), Buffer.from(`${JSON.stringify(context)}|`), Buffer.from(plaintext)]);
  return {
    sent,
    async send(command) {
      sent.push(command);
      if (command instanceof EncryptCommand) return { CiphertextBlob: blobOf(command.input.EncryptionContext, command.input.Plaintext!) };
      if (command instanceof GenerateDataKeyCommand) {
        const plaintext = new Uint8Array(randomBytes(32));
        return { Plaintext: plaintext, CiphertextBlob: blobOf(command.input.EncryptionContext, plaintext) };
      }
      if (command instanceof DecryptCommand) {
        const blob = Buffer.from(command.input.CiphertextBlob!);
        const at = blob.indexOf('|');
        if (blob.subarray(1, at).toString() !== JSON.stringify(command.input.EncryptionContext)) {
          throw Object.assign(new Error('context mismatch'), { name: 'InvalidCiphertextException' });
        }
        return { Plaintext: new Uint8Array(blob.subarray(at + 1)) };
      }
      throw new Error('unexpected command');
    },
  };
};

const kinds = (sent: readonly unknown[]): string[] => sent.map((command) => (command as object).constructor.name);
const dataKey = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
const limits = (overrides: Partial<KeyEncryptionKeyCache>): KeyEncryptionKeyCache => ({ wrapForMs: 60_000, maxWraps: 1_000, maxEntries: 10, ttlMs: 60_000, ...overrides });

describe('KMS key wrapper (against a fake KMS client; real KMS is not reachable here)', () => {
  describe('with a cached key-encryption key', () => {
    it('wraps many users’ keys under one KMS-generated key, one KMS call in all, and unwraps them back', async () => {
      const kms = fakeKms();
      const wrapper = createKmsKeyWrapper({ keyArn, client: kms });
      const wrapped = await Promise.all([1, 2, 3].map((n) => wrapper.wrap(dataKey(n), `user-${n}`)));
      for (const [i, n] of [1, 2, 3].entries()) expect(await wrapper.unwrap(wrapped[i]!, `user-${n}`)).toEqual(dataKey(n));
      expect(kinds(kms.sent)).toEqual(['GenerateDataKeyCommand']);
      expect((kms.sent[0] as GenerateDataKeyCommand).input).toEqual({ KeyId: keyArn, KeySpec: 'AES_256', EncryptionContext: { purpose: 'chronicle-key-encryption-key' } });
    });

    it('lets another process unwrap every key of one key-encryption key with a single Decrypt', async () => {
      const kms = fakeKms();
      const wrapped = await Promise.all([1, 2, 3].map((n) => createKmsKeyWrapper({ keyArn, client: kms }).wrap(dataKey(n), `user-${n}`).then((w) => [n, w] as const)));
      const writer = createKmsKeyWrapper({ keyArn, client: kms });
      const many = await Promise.all([4, 5, 6].map((n) => writer.wrap(dataKey(n), `user-${n}`)));
      kms.sent.length = 0;
      const reader = createKmsKeyWrapper({ keyArn, client: kms });
      expect(await Promise.all(many.map((w, i) => reader.unwrap(w, `user-${i + 4}`)))).toEqual([4, 5, 6].map(dataKey));
      expect(kinds(kms.sent)).toEqual(['DecryptCommand']);
      // Three writers, three key-encryption keys: one Decrypt each, whatever the number of users.
      for (const [n, w] of wrapped) expect(await reader.unwrap(w, `user-${n}`)).toEqual(dataKey(n));
      expect(kinds(kms.sent)).toHaveLength(4);
    });

    it('does not unwrap a key for another user', async () => {
      const wrapper = createKmsKeyWrapper({ keyArn, client: fakeKms() });
      const wrapped = await wrapper.wrap(dataKey(1), 'user-a');
      await expect(wrapper.unwrap(wrapped, 'user-b')).rejects.toThrow();
    });

    it('refuses a wrapped key whose bytes were altered', async () => {
      const wrapper = createKmsKeyWrapper({ keyArn, client: fakeKms() });
      const wrapped = Buffer.from(await wrapper.wrap(dataKey(1), 'user-a'));
      wrapped[wrapped.length - 20]! ^= 1;
      await expect(wrapper.unwrap(wrapped, 'user-a')).rejects.toThrow();
    });

    it('asks KMS for the next key-encryption key after wrapForMs or maxWraps', async () => {
      const kms = fakeKms();
      let clock = 0;
      const wrapper = createKmsKeyWrapper({ keyArn, client: kms, cache: limits({ wrapForMs: 1000, maxWraps: 2 }), now: () => clock });
      await wrapper.wrap(dataKey(1), 'u1');
      await wrapper.wrap(dataKey(2), 'u2');
      expect(kms.sent).toHaveLength(1);
      await wrapper.wrap(dataKey(3), 'u3');
      expect(kms.sent).toHaveLength(2);
      clock = 1001;
      await wrapper.wrap(dataKey(4), 'u4');
      expect(kinds(kms.sent)).toEqual(['GenerateDataKeyCommand', 'GenerateDataKeyCommand', 'GenerateDataKeyCommand']);
    });

    it('keeps at most maxEntries key-encryption keys, each for ttlMs', async () => {
      const kms = fakeKms();
      const wrappedBy = await Promise.all([1, 2].map((n) => createKmsKeyWrapper({ keyArn, client: kms }).wrap(dataKey(n), `u${n}`)));
      let clock = 0;
      const reader = createKmsKeyWrapper({ keyArn, client: kms, cache: limits({ maxEntries: 1, ttlMs: 1000 }), now: () => clock });
      kms.sent.length = 0;
      await reader.unwrap(wrappedBy[0]!, 'u1');
      await reader.unwrap(wrappedBy[0]!, 'u1');
      expect(kms.sent).toHaveLength(1);
      await reader.unwrap(wrappedBy[1]!, 'u2');
      await reader.unwrap(wrappedBy[0]!, 'u1');
      expect(kms.sent).toHaveLength(3);
      clock = 1001;
      await reader.unwrap(wrappedBy[0]!, 'u1');
      expect(kms.sent).toHaveLength(4);
    });
  });

  it('still unwraps a data key that KMS wrapped directly (the earlier format), with the user id in the context', async () => {
    const kms = fakeKms();
    const legacy = (await kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: dataKey(7), EncryptionContext: { purpose: 'chronicle-user-data-key', userId: 'user-a' } }))).CiphertextBlob!;
    const wrapper = createKmsKeyWrapper({ keyArn, client: kms });
    expect(await wrapper.unwrap(legacy, 'user-a')).toEqual(dataKey(7));
    await expect(wrapper.unwrap(legacy, 'user-b')).rejects.toThrow(/context mismatch/);
  });

  it('reports throttling as the store being unavailable (retryable), and asks again on the next call', async () => {
    let throttle = true;
    const inner = fakeKms();
    const client: KmsClientLike = { send: async (command) => (throttle ? Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' })) : inner.send(command)) };
    const wrapper = createKmsKeyWrapper({ keyArn, client });
    const error = await wrapper.wrap(dataKey(1), 'user-a').catch((e: unknown) => e);
    expect(isUnavailableError(error)).toBe(true);
    throttle = false;
    const wrapped = await wrapper.wrap(dataKey(1), 'user-a');
    expect(await wrapper.unwrap(wrapped, 'user-a')).toEqual(dataKey(1));
  });
});
