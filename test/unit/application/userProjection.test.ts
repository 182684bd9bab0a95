import { describe, expect, it } from 'vitest';
import { projectStoredEvent } from '#application/userProjection';
import type { StoredEvent } from '#ports/eventStore';

const userId = '6f1c1f3e-3a43-4b8e-9d61-2f1f0a7c1b11';
const stored = (type: string, data: Record<string, unknown>, schemaVersion = 1): StoredEvent => ({
  id: 'e1',
  streamId: `user-${userId}`,
  type,
  revision: 3n,
  position: 12345678901234567n,
  data,
  metadata: { schemaVersion },
  recordedAt: new Date(0),
});

describe('the user projection', () => {
  it('creates an active, unverified user on registration', () => {
    expect(projectStoredEvent(stored('UserRegistered', { userId, email: 'a@b.co', displayName: 'A', registeredAt: 't' }))).toEqual({
      streamId: `user-${userId}`,
      revision: 3n,
      position: 12345678901234567n,
      changes: [{ type: 'userCreated', user: { id: userId, email: 'a@b.co', displayName: 'A', status: 'active', emailVerified: false, registeredAt: 't' } }],
    });
  });

  it('projects a stored v1 EmailChanged through the upcaster as unverified', () => {
    expect(projectStoredEvent(stored('EmailChanged', { userId, email: 'n@b.co', changedAt: 't' })).changes).toEqual([
      { type: 'userPatched', userId, fields: { email: 'n@b.co', emailVerified: false } },
    ]);
  });

  it('moves status on suspension and reactivation', () => {
    expect(projectStoredEvent(stored('UserSuspended', { userId, reason: 'r', suspendedAt: 't' })).changes).toEqual([
      { type: 'userPatched', userId, fields: { status: 'suspended' } },
    ]);
    expect(projectStoredEvent(stored('UserReactivated', { userId, reactivatedAt: 't' })).changes).toEqual([
      { type: 'userPatched', userId, fields: { status: 'active' } },
    ]);
  });

  it('marks the email verified', () => {
    expect(projectStoredEvent(stored('EmailVerified', { userId, email: 'a@b.co', verifiedAt: 't' })).changes).toEqual([
      { type: 'userPatched', userId, fields: { emailVerified: true } },
    ]);
  });

  it('throws on a malformed event so the projector can park it', () => {
    expect(() => projectStoredEvent(stored('UserRegistered', { userId }))).toThrow(/malformed/);
  });
});
