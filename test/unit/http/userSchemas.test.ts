import { describe, expect, it } from 'vitest';
import { listUsersQuery, reactivateUserBody, userPath } from '#http/userSchemas';

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

  it('requires UUID path ids', () => {
    expect(userPath.safeParse({ id: '6f0d8c2e-4b1a-4e3f-9a7c-2d8e1f4b6a90' }).success).toBe(true);
    expect(userPath.safeParse({ id: 'user-1' }).success).toBe(false);
  });

  it('takes an empty object for reactivation', () => expect(reactivateUserBody.safeParse({}).success).toBe(true));
});
