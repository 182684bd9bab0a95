import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';

/** A minimal HTTP client for the API under test: status, headers and parsed JSON. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown>;
}

type ErrorBody = { error: { code: string; message: string; details?: { issues?: Array<{ path: string }> } } };

const call = async (
  baseUrl: string,
  method: string,
  path: string,
  options: { json?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse> => {
  const headers: Record<string, string> = { ...(options.json === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers };
  const body = options.json === undefined ? options.raw : JSON.stringify(options.json);
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
};

const errorOf = (response: ApiResponse): ErrorBody['error'] => (response.json as ErrorBody).error;

/**
 * The end-to-end HTTP flow of the user API, against a running stack. Each e2e file boots one
 * stack (its own storage configuration) and runs these same scenarios on it.
 */
export const userApiScenarios = (baseUrl: () => string, stores: { readonly eventStore: 'sqlite' | 'eventstoredb'; readonly readModels: 'sqlite' | 'redis' }): void => {
  const api = (method: string, path: string, options?: Parameters<typeof call>[3]) => call(baseUrl(), method, path, options);
  const freshEmail = () => `e2e-${randomUUID().slice(0, 8)}@example.com`;

  describe('a user’s life through the API', () => {
    it('registers, reads back, changes and verifies the email, suspends, lists and shows the history', async () => {
      const correlationId = `e2e-${randomUUID()}`;
      const [email, newEmail] = [freshEmail(), freshEmail()];

      const registered = await api('POST', '/users', { json: { email, displayName: 'Ada Lovelace' }, headers: { 'x-correlation-id': correlationId } });
      expect(registered.status, JSON.stringify(registered.json)).toBe(201);
      const id = registered.json['id'] as string;
      expect(registered.headers.get('location')).toBe(`/users/${id}`);
      expect(registered.headers.get('etag')).toBe('"0"');
      expect(registered.headers.get('x-correlation-id')).toBe(correlationId);
      expect(registered.json).toEqual({ id, revision: '0', position: registered.headers.get('x-consistency-token') });

      const read = await api('GET', `/users/${id}`, { headers: { 'x-consistency-token': registered.headers.get('x-consistency-token') ?? '' } });
      expect(read.status).toBe(200);
      expect(read.headers.get('x-read-model-stale')).toBeNull();
      expect(read.headers.get('etag')).toBe('"0"');
      expect(read.json).toEqual({ id, email, displayName: 'Ada Lovelace', status: 'active', emailVerified: false, registeredAt: expect.any(String), revision: '0' });

      const changed = await api('POST', `/users/${id}/email`, { json: { email: newEmail.toUpperCase() }, headers: { 'if-match': '"0"' } });
      expect(changed.status, JSON.stringify(changed.json)).toBe(200);
      expect(changed.headers.get('etag')).toBe('"1"');

      const verified = await api('POST', `/users/${id}/email/verification`, { json: { email: newEmail } });
      expect(verified.status, JSON.stringify(verified.json)).toBe(200);

      const suspended = await api('POST', `/users/${id}/suspension`, { json: { reason: 'chargeback' }, headers: { 'if-match': 'W/"2"' } });
      expect(suspended.status, JSON.stringify(suspended.json)).toBe(200);
      const token = suspended.headers.get('x-consistency-token') ?? '';
      expect(suspended.json).toMatchObject({ id, revision: '3', position: token });

      const current = await api('GET', `/users/${id}?consistentWith=${token}`);
      expect(current.json).toMatchObject({ email: newEmail, status: 'suspended', emailVerified: true, revision: '3' });

      const suspendedList = await api('GET', `/users?status=suspended&limit=100&consistentWith=${token}`);
      expect(suspendedList.status).toBe(200);
      expect((suspendedList.json['items'] as Array<{ id: string }>).map((user) => user.id)).toContain(id);
      const activeList = await api('GET', `/users?status=active&limit=100&consistentWith=${token}`);
      expect((activeList.json['items'] as Array<{ id: string }>).map((user) => user.id)).not.toContain(id);

      const history = await api('GET', `/users/${id}/events`);
      expect(history.status).toBe(200);
      const items = history.json['items'] as Array<Record<string, unknown>>;
      expect(items.map((item) => [item['type'], item['revision'], item['schemaVersion']])).toEqual([
        ['UserRegistered', '0', 1],
        ['EmailChanged', '1', 2],
        ['EmailVerified', '2', 1],
        ['UserSuspended', '3', 1],
      ]);
      expect(items[0]).toMatchObject({ position: registered.json['position'], occurredAt: expect.any(String), data: { email } });
      expect(items[0]?.['metadata']).toMatchObject({ $correlationId: correlationId, schemaVersion: 1 });

      const reactivated = await api('POST', `/users/${id}/reactivation`);
      expect(reactivated.status, JSON.stringify(reactivated.json)).toBe(200);
      expect(reactivated.json['revision']).toBe('4');
    });

    it('pages through users with a cursor', async () => {
      for (let i = 0; i < 3; i++) expect((await api('POST', '/users', { json: { email: freshEmail(), displayName: `Pager ${i}` } })).status).toBe(201);
      const last = await api('POST', '/users', { json: { email: freshEmail(), displayName: 'Pager last' } });
      const token = last.headers.get('x-consistency-token') ?? '';
      const first = await api('GET', `/users?limit=2&consistentWith=${token}`);
      expect((first.json['items'] as unknown[]).length).toBe(2);
      const second = await api('GET', `/users?limit=2&cursor=${encodeURIComponent(first.json['nextCursor'] as string)}`);
      expect(second.status).toBe(200);
      const firstIds = (first.json['items'] as Array<{ id: string }>).map((u) => u.id);
      for (const user of second.json['items'] as Array<{ id: string }>) expect(firstIds).not.toContain(user.id);
    });
  });

  describe('time travel (from the event store)', () => {
    it('answers the user as of an instant or a revision, and pages the history', async () => {
      const [email, newEmail] = [freshEmail(), freshEmail()];
      const registered = await api('POST', '/users', { json: { email, displayName: 'Past' } });
      const id = registered.json['id'] as string;
      expect((await api('POST', `/users/${id}/email`, { json: { email: newEmail } })).status).toBe(200);
      expect((await api('POST', `/users/${id}/suspension`, { json: { reason: 'x' } })).status).toBe(200);

      const first = await api('GET', `/users/${id}/events?limit=2`);
      expect(first.status).toBe(200);
      const firstItems = first.json['items'] as Array<Record<string, string>>;
      expect(firstItems.map((item) => item['revision'])).toEqual(['0', '1']);
      const second = await api('GET', `/users/${id}/events?limit=2&cursor=${encodeURIComponent(first.json['nextCursor'] as string)}`);
      expect((second.json['items'] as Array<Record<string, string>>).map((item) => item['revision'])).toEqual(['2']);
      expect(second.json['nextCursor']).toBeNull();

      const atZero = await api('GET', `/users/${id}?atRevision=0`);
      expect(atZero.status).toBe(200);
      expect(atZero.headers.get('etag')).toBe('"0"');
      expect(atZero.json).toEqual({ id, email, displayName: 'Past', status: 'active', emailVerified: false, registeredAt: expect.any(String), revision: '0', asOf: firstItems[0]?.['recordedAt'] });

      const registeredAt = firstItems[0]?.['recordedAt'] ?? '';
      const asOfRegistration = await api('GET', `/users/${id}?asOf=${encodeURIComponent(registeredAt)}`);
      expect(asOfRegistration.json).toMatchObject({ revision: '0', email, asOf: registeredAt });
      const now = await api('GET', `/users/${id}?asOf=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
      expect(now.json).toMatchObject({ revision: '2', email: newEmail, status: 'suspended' });

      const before = await api('GET', `/users/${id}?asOf=${encodeURIComponent(new Date(Date.parse(registeredAt) - 1).toISOString())}`);
      expect(before.status).toBe(404);
      expect(errorOf(before).code).toBe('USER_NOT_FOUND');
      expect((await api('GET', `/users/${id}?atRevision=3`)).status).toBe(404);
      expect((await api('GET', `/users/${id}?asOf=last-tuesday`)).status).toBe(400);
      expect((await api('GET', `/users/${id}?atRevision=-1`)).status).toBe(400);
      expect((await api('GET', `/users/${id}?atRevision=0&asOf=${encodeURIComponent(registeredAt)}`)).status).toBe(400);
      expect((await api('GET', `/users/${id}/events?limit=1001`)).status).toBe(400);
      expect((await api('GET', `/users/${id}/events?cursor=bogus`)).status).toBe(400);
    });
  });

  describe('idempotency', () => {
    it('appends once for the same Idempotency-Key sent twice, answering the same result', async () => {
      const key = `e2e-${randomUUID()}`;
      const body = { email: freshEmail(), displayName: 'Grace Hopper' };
      const first = await api('POST', '/users', { json: body, headers: { 'idempotency-key': key } });
      const second = await api('POST', '/users', { json: body, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.json).toEqual(first.json);
      const id = first.json['id'] as string;
      const suspendKey = `e2e-${randomUUID()}`;
      await api('POST', `/users/${id}/suspension`, { json: { reason: 'test' }, headers: { 'idempotency-key': suspendKey } });
      const again = await api('POST', `/users/${id}/suspension`, { json: { reason: 'test' }, headers: { 'idempotency-key': suspendKey } });
      expect(again.status).toBe(200);
      const history = await api('GET', `/users/${id}/events`);
      expect((history.json['items'] as unknown[]).length).toBe(2);
    });
  });

  describe('client errors', () => {
    it('answers 400 naming each bad field', async () => {
      const response = await api('POST', '/users', { json: { email: 42 } });
      expect(response.status).toBe(400);
      expect(errorOf(response).code).toBe('VALIDATION_FAILED');
      expect(errorOf(response).details?.issues?.map((issue) => issue.path).sort()).toEqual(['displayName', 'email']);
    });

    it('answers 400 for an invalid email address, naming it', async () => {
      const response = await api('POST', '/users', { json: { email: 'not-an-email', displayName: 'X' } });
      expect(response.status).toBe(400);
      expect(errorOf(response).details?.issues?.map((issue) => issue.path)).toEqual(['email']);
    });

    it('answers 400 for malformed JSON, a non-UUID id and out-of-range list parameters', async () => {
      expect((await api('POST', '/users', { raw: '{"email":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
      expect((await api('GET', '/users/not-a-uuid')).status).toBe(400);
      expect((await api('GET', '/users?limit=0')).status).toBe(400);
      expect((await api('GET', '/users?limit=101')).status).toBe(400);
      expect((await api('GET', '/users?status=deleted')).status).toBe(400);
    });

    it('answers 415 for a body that is not JSON', async () => {
      const response = await api('POST', '/users', { raw: 'email=a@example.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(response.status).toBe(415);
      expect(errorOf(response).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 413 for a body over the limit', async () => {
      const response = await api('POST', '/users', { json: { email: freshEmail(), displayName: 'x'.repeat(20_000) } });
      expect(response.status).toBe(413);
    });

    it('answers 404 for unknown users', async () => {
      const unknown = randomUUID();
      expect(errorOf(await api('GET', `/users/${unknown}`)).code).toBe('USER_NOT_FOUND');
      expect((await api('GET', `/users/${unknown}/events`)).status).toBe(404);
      expect((await api('POST', `/users/${unknown}/suspension`, { json: { reason: 'x' } })).status).toBe(404);
    });

    it('answers 412 for a stale If-Match and 400 for a malformed one', async () => {
      const registered = await api('POST', '/users', { json: { email: freshEmail(), displayName: 'Stale' } });
      const id = registered.json['id'] as string;
      expect((await api('POST', `/users/${id}/suspension`, { json: { reason: 'x' }, headers: { 'if-match': '"0"' } })).status).toBe(200);
      const stale = await api('POST', `/users/${id}/reactivation`, { headers: { 'if-match': '"0"' } });
      expect(stale.status).toBe(412);
      expect(errorOf(stale).code).toBe('PRECONDITION_FAILED');
      expect((await api('POST', `/users/${id}/reactivation`, { headers: { 'if-match': 'yesterday' } })).status).toBe(400);
    });

    it('answers 409 for an email another user holds, and for a rule the state breaks', async () => {
      const email = freshEmail();
      const first = await api('POST', '/users', { json: { email, displayName: 'First' } });
      expect(first.status).toBe(201);
      const taken = await api('POST', '/users', { json: { email: email.toUpperCase(), displayName: 'Second' } });
      expect(taken.status).toBe(409);
      expect(errorOf(taken).code).toBe('EMAIL_TAKEN');
      const notSuspended = await api('POST', `/users/${first.json['id'] as string}/reactivation`, { json: {} });
      expect(notSuspended.status).toBe(409);
      expect(errorOf(notSuspended).code).toBe('USER_NOT_SUSPENDED');
    });
  });

  it('answers the health check, naming the configured stores', async () => {
    const health = await api('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'ok', ...stores });
  });
};
