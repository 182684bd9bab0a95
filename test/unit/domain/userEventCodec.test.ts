import { describe, expect, it } from 'vitest';
import { aesGcmPersonalDataKey, newDataKey } from '#adapters/crypto/aesGcmPersonalDataKey';
import { SEALED_FIELD } from '#domain/personalData';
import { decodeUserEvent, encodeUserEvent } from '#domain/userEventCodec';
import type { UserEvent } from '#domain/userEvents';

const userId = '5d0c8a2e-7b1f-4c3d-9e8a-1f2b3c4d5e6f';
const streamId = `user-${userId}`;
const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId, email: 'grace@example.com', displayName: 'Grace Hopper', registeredAt: '2026-11-01T00:00:00.000Z' },
};

describe('user event codec', () => {
  describe('when encoding an event with personal fields', () => {
    it('seals them: nothing personal in the stored form, the rest readable', () => {
      const stored = encodeUserEvent(registered, aesGcmPersonalDataKey(newDataKey()));
      const text = JSON.stringify(stored);
      expect(text).not.toContain('grace');
      expect(text).not.toContain('Hopper');
      expect(stored.data).toEqual({ userId, registeredAt: '2026-11-01T00:00:00.000Z', [SEALED_FIELD]: expect.stringMatching(/^A256GCM\./) });
    });

    it('opens them again with the same key', () => {
      const key = aesGcmPersonalDataKey(newDataKey());
      expect(decodeUserEvent({ ...encodeUserEvent(registered, key), streamId }, key)).toEqual({ shredded: false, event: registered });
    });

    it('seals a suspension reason', () => {
      const stored = encodeUserEvent({ type: 'UserSuspended', data: { userId, reason: 'impersonated Ada', suspendedAt: 't' } }, aesGcmPersonalDataKey(newDataKey()));
      expect(JSON.stringify(stored)).not.toContain('impersonated');
    });

    it('needs no key for an event without personal fields', () => {
      expect(encodeUserEvent({ type: 'UserErased', data: { userId, erasedAt: 't' } }, null).data).toEqual({ userId, erasedAt: 't' });
    });
  });

  describe('when the sealed data is moved or the key is wrong', () => {
    it('refuses a ciphertext moved to another stream (the stream is bound as associated data)', () => {
      const key = aesGcmPersonalDataKey(newDataKey());
      const stored = encodeUserEvent(registered, key);
      expect(() => decodeUserEvent({ ...stored, streamId: 'user-00000000-0000-4000-8000-000000000000' }, key)).toThrow(/does not open/);
    });

    it('refuses a ciphertext moved to another event type', () => {
      const key = aesGcmPersonalDataKey(newDataKey());
      const stored = encodeUserEvent({ type: 'EmailVerified', data: { userId, email: 'grace@example.com', verifiedAt: 't' } }, key);
      expect(() => decodeUserEvent({ ...stored, type: 'EmailChanged', schemaVersion: 2, streamId }, key)).toThrow(/does not open/);
    });

    it('refuses another user’s key', () => {
      const stored = encodeUserEvent(registered, aesGcmPersonalDataKey(newDataKey()));
      expect(() => decodeUserEvent({ ...stored, streamId }, aesGcmPersonalDataKey(newDataKey()))).toThrow(/does not open/);
    });
  });

  describe('when the user’s key is destroyed', () => {
    it('reads the event as shredded: personal fields null, the rest as stored', () => {
      const stored = encodeUserEvent(registered, aesGcmPersonalDataKey(newDataKey()));
      expect(decodeUserEvent({ ...stored, streamId }, null)).toEqual({
        shredded: true,
        type: 'UserRegistered',
        data: { userId, registeredAt: '2026-11-01T00:00:00.000Z', email: null, displayName: null },
      });
    });
  });

  describe('when the event predates encryption', () => {
    it('reads the plaintext as it is, with or without a key', () => {
      const plaintext = { streamId, type: 'UserRegistered', schemaVersion: 1, data: { ...registered.data } };
      expect(decodeUserEvent(plaintext, null)).toEqual({ shredded: false, event: registered });
      expect(decodeUserEvent(plaintext, aesGcmPersonalDataKey(newDataKey()))).toEqual({ shredded: false, event: registered });
    });
  });
});
