import { describe, expect, it } from 'vitest';
import { getUserQuery, listUsersQuery, reactivateUserBody, userEventsQuery, userPath } from '#http/userSchemas';

describe('request schemas', () => {
  describe('GET /users query', () => {
    it('defaults the limit to 20', () => expect(listUsersQuery.parse({})).toEqual({ limit: 20 }));
    it('accepts 1 to 100', () => expect([listUsersQuery.parse({ limit: '1' }).limit, listUsersQuery.parse({ limit: '100' }).limit]).toEqual([1, 100]));
    it.each(['0', '101', '-1', '2.5', 'ten'])('rejects limit=%s', (limit) => expect(listUsersQuery.safeParse({ limit }).success).toBe(false));
    it('accepts the two statuses only', () => {
      expect(listUsersQuery.parse({ status: 'suspended' }).status).toBe('suspended');
      expect(listUsersQuery.safeParse({ status: 'deleted' }).success).toBe(false);
    });
  });

  describe('GET /users/{id} query', () => {
    it('reads asOf as an RFC 3339 instant with an offset', () => {
      expect(getUserQuery.parse({ asOf: '2026-11-24T12:00:00+01:00' }).asOf?.toISOString()).toBe('2026-11-24T11:00:00.000Z');
      expect(getUserQuery.parse({ asOf: '2026-11-24T11:00:00.123Z' }).asOf?.toISOString()).toBe('2026-11-24T11:00:00.123Z');
    });
    it.each(['yesterday', '2026-11-24', '2026-11-24T11:00:00', '2026-13-24T11:00:00Z', '1700000000'])('rejects asOf=%s', (asOf) =>
      expect(getUserQuery.safeParse({ asOf }).success).toBe(false),
    );
    it('reads atRevision as a 64-bit whole number', () => expect(getUserQuery.parse({ atRevision: '9223372036854775807' }).atRevision).toBe(9_223_372_036_854_775_807n));
    it.each(['-1', '1.5', 'x', '', '9223372036854775808'])('rejects atRevision=%s', (atRevision) =>
      expect(getUserQuery.safeParse({ atRevision }).success).toBe(false),
    );
    it('rejects asOf and atRevision together', () => expect(getUserQuery.safeParse({ asOf: '2026-11-24T11:00:00Z', atRevision: '1' }).success).toBe(false));
  });

  describe('GET /users/{id}/events query', () => {
    it('leaves the limit to the use case and accepts 1 to 1000', () => {
      expect(userEventsQuery.parse({}).limit).toBeUndefined();
      expect([userEventsQuery.parse({ limit: '1' }).limit, userEventsQuery.parse({ limit: '1000' }).limit]).toEqual([1, 1000]);
    });
    it.each(['0', '1001', 'all'])('rejects limit=%s', (limit) => expect(userEventsQuery.safeParse({ limit }).success).toBe(false));
    it('reads from and to as instants', () => expect(userEventsQuery.parse({ from: '2026-11-24T11:00:00Z' }).from).toEqual(new Date('2026-11-24T11:00:00Z')));
  });

  it('requires UUID path ids', () => {
    expect(userPath.safeParse({ id: '6f0d8c2e-4b1a-4e3f-9a7c-2d8e1f4b6a90' }).success).toBe(true);
    expect(userPath.safeParse({ id: 'user-1' }).success).toBe(false);
  });

  it('takes an empty object for reactivation', () => expect(reactivateUserBody.safeParse({}).success).toBe(true));
});
