import { describe, expect, it } from 'vitest';
import { userIdOfPrincipal } from '#application/principal';
import { isPreconditionFailedError } from '#domain/errors';
import { commandOptionsOf, commandResponse, newUserIdOf } from '#http/commandHttp';
import { createConsistencyTokens } from '#http/consistencyToken';
import { createRequestFingerprinter } from '#http/requestFingerprint';
import { principal, TEST_TOKEN_KEYS } from '#test/support/testIdentity';

const alice = principal('alice');
const admin = principal('root', { isAdmin: true });

const requestWith = (headers: Record<string, string>, overrides: { principal?: typeof alice; body?: unknown; path?: unknown; route?: string } = {}) => ({
  route: overrides.route ?? 'POST /users/{id}/email',
  info: { correlationId: 'corr-1', requestId: 'req-1', startedAt: 0 },
  principal: overrides.principal ?? alice,
  body: overrides.body ?? { email: 'a@example.com' },
  path: overrides.path ?? { id: 'u-1' },
  fingerprintRequest: createRequestFingerprinter('fingerprint-key-0123456789abcdef0123'),
  header: (name: string) => headers[name.toLowerCase()],
});

describe('commands over HTTP', () => {
  describe('Idempotency-Key', () => {
    it('names the same command for the same caller and key', () => {
      expect(commandOptionsOf(requestWith({ 'idempotency-key': 'key-123' })).commandId).toBe(commandOptionsOf(requestWith({ 'idempotency-key': 'key-123' })).commandId);
    });

    it('never names the same command for two callers, whatever the key', () => {
      const mine = commandOptionsOf(requestWith({ 'idempotency-key': 'key-123' }));
      const theirs = commandOptionsOf(requestWith({ 'idempotency-key': 'key-123' }, { principal: principal('mallory') }));
      expect(mine.commandId).not.toBe(theirs.commandId);
    });

    it('makes a fresh command id without a key', () => {
      expect(commandOptionsOf(requestWith({})).commandId).not.toBe(commandOptionsOf(requestWith({})).commandId);
    });

    it('rejects a malformed key', () => {
      expect(() => commandOptionsOf(requestWith({ 'idempotency-key': 'bad key with spaces' }))).toThrow(/Idempotency-Key/);
    });
  });

  describe('request fingerprint', () => {
    it('is the same for the same request, whatever the order of the body’s keys', () => {
      const a = commandOptionsOf(requestWith({}, { body: { email: 'a@example.com', displayName: 'A' } }));
      const b = commandOptionsOf(requestWith({}, { body: { displayName: 'A', email: 'a@example.com' } }));
      expect(a.requestFingerprint).toBe(b.requestFingerprint);
    });

    it('differs for another body, target or route, and never contains the body', () => {
      const base = commandOptionsOf(requestWith({})).requestFingerprint;
      expect(commandOptionsOf(requestWith({}, { body: { email: 'b@example.com' } })).requestFingerprint).not.toBe(base);
      expect(commandOptionsOf(requestWith({}, { path: { id: 'u-2' } })).requestFingerprint).not.toBe(base);
      expect(commandOptionsOf(requestWith({}, { route: 'POST /users' })).requestFingerprint).not.toBe(base);
      expect(base).not.toContain('example');
    });
  });

  it('records the principal as the actor', () => {
    expect(commandOptionsOf(requestWith({})).actor).toEqual({ issuer: alice.issuer, subject: 'alice' });
  });

  it('pins a strong If-Match revision and refuses a weak one as never matching', () => {
    expect(commandOptionsOf(requestWith({ 'if-match': '"4"' })).expectedRevision).toBe(4n);
    expect(() => commandOptionsOf(requestWith({ 'if-match': 'W/"4"' }))).toSatisfy((run: () => unknown) => {
      try {
        run();
        return false;
      } catch (error) {
        return isPreconditionFailedError(error);
      }
    });
  });

  describe('the id of a new user', () => {
    it('is the caller’s own, derived from issuer and subject, whatever the key', () => {
      expect(newUserIdOf(requestWith({ 'idempotency-key': 'k' }))).toBe(userIdOfPrincipal(alice));
      expect(newUserIdOf(requestWith({}))).toBe(userIdOfPrincipal(alice));
      expect(userIdOfPrincipal(alice)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('is new for an admin, or derived from the admin’s key so a retry lands on the same user', () => {
      const [a, b] = [newUserIdOf(requestWith({ 'idempotency-key': 'k1' }, { principal: admin })), newUserIdOf(requestWith({ 'idempotency-key': 'k1' }, { principal: admin }))];
      expect(a).toBe(b);
      expect(a).not.toBe(userIdOfPrincipal(admin));
      expect(newUserIdOf(requestWith({}, { principal: admin }))).not.toBe(newUserIdOf(requestWith({}, { principal: admin })));
    });
  });

  it('answers id, revision and position as strings, with ETag, a signed consistency token and a Location carrying it', () => {
    const tokens = createConsistencyTokens(TEST_TOKEN_KEYS);
    const response = commandResponse(tokens, { id: 'u1', revision: 2n, position: 9007199254740993n }, { statusCode: 201, location: (token) => `/users/u1?consistentWith=${token}` });
    expect(response.statusCode).toBe(201);
    expect(JSON.parse(response.body)).toEqual({ id: 'u1', revision: '2', position: '9007199254740993' });
    const token = response.headers['x-consistency-token'] ?? '';
    expect(tokens.parse(token, 'X-Consistency-Token')).toBe(9007199254740993n);
    expect(response.headers).toMatchObject({ etag: '"2"', location: `/users/u1?consistentWith=${token}` });
  });
});
