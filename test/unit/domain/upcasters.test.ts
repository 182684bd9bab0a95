import { describe, expect, it } from 'vitest';
import { createUpcasterRegistry, upcasterKey, userUpcasters } from '#domain/upcasters';
import { decodeUserEvent, encodeUserEvent } from '#domain/userEventCodec';
import { aesGcmPersonalDataKey, newDataKey } from '#adapters/crypto/aesGcmPersonalDataKey';

const userId = '6f1c1f3e-3a43-4b8e-9d61-2f1f0a7c1b11';

describe('upcasting', () => {
  describe('EmailChanged', () => {
    it('brings a stored v1 (no verified field) to v2 with verified false', () => {
      const stored = { type: 'EmailChanged', schemaVersion: 1, data: { userId, email: 'new@example.com', changedAt: '2026-01-01T00:00:00.000Z' } };
      expect(userUpcasters.upcast(stored, 2)).toEqual({ type: 'EmailChanged', schemaVersion: 2, data: { ...stored.data, verified: false } });
    });

    it('leaves a v2 as it is', () => {
      const stored = { type: 'EmailChanged', schemaVersion: 2, data: { userId, email: 'a@b.co', changedAt: 'x', verified: true } };
      expect(userUpcasters.upcast(stored, 2)).toEqual(stored);
    });

    it('never rewrites the stored data object', () => {
      const data = { userId, email: 'new@example.com', changedAt: '2026-01-01T00:00:00.000Z' };
      userUpcasters.upcast({ type: 'EmailChanged', schemaVersion: 1, data }, 2);
      expect(data).not.toHaveProperty('verified');
    });
  });

  describe('a registry', () => {
    it('chains steps from any stored version to the target', () => {
      const registry = createUpcasterRegistry({
        [upcasterKey('Thing', 1)]: (d) => ({ ...d, b: 1 }),
        [upcasterKey('Thing', 2)]: (d) => ({ ...d, c: 2 }),
      });
      expect(registry.upcast({ type: 'Thing', schemaVersion: 1, data: { a: 0 } }, 3).data).toEqual({ a: 0, b: 1, c: 2 });
    });

    it('refuses a missing step', () => {
      const registry = createUpcasterRegistry({});
      expect(() => registry.upcast({ type: 'Thing', schemaVersion: 1, data: {} }, 2)).toThrow(/no upcaster for Thing v1/);
    });

    it('refuses an event newer than the code', () => {
      expect(() => userUpcasters.upcast({ type: 'EmailChanged', schemaVersion: 3, data: {} }, 2)).toThrow(/newer/);
    });
  });

  describe('decoding stored user events', () => {
    it('upcasts before checking the shape', () => {
      const decoded = decodeUserEvent({ streamId: `user-${userId}`, type: 'EmailChanged', schemaVersion: 1, data: { userId, email: 'a@b.co', changedAt: 't' } }, null);
      expect(decoded).toEqual({ shredded: false, event: { type: 'EmailChanged', data: { userId, email: 'a@b.co', changedAt: 't', verified: false } } });
    });

    it('rejects an unknown type', () => {
      expect(() => decodeUserEvent({ streamId: `user-${userId}`, type: 'UserExploded', schemaVersion: 1, data: {} }, null)).toThrow(/unknown user event type/);
    });

    it('rejects a malformed event, naming the fields', () => {
      expect(() => decodeUserEvent({ streamId: `user-${userId}`, type: 'UserSuspended', schemaVersion: 1, data: { userId } }, null)).toThrow(/malformed/);
    });

    it('round-trips through encode at the current version', () => {
      const event = { type: 'EmailVerified' as const, data: { userId, email: 'a@b.co', verifiedAt: 't' } };
      const key = aesGcmPersonalDataKey(newDataKey());
      const stored = encodeUserEvent(event, key);
      expect(stored.schemaVersion).toBe(1);
      expect(decodeUserEvent({ ...stored, streamId: `user-${userId}` }, key)).toEqual({ shredded: false, event });
    });

    it('writes EmailChanged at version 2', () => {
      expect(encodeUserEvent({ type: 'EmailChanged', data: { userId, email: 'a@b.co', changedAt: 't', verified: false } }, aesGcmPersonalDataKey(newDataKey())).schemaVersion).toBe(2);
    });
  });
});
