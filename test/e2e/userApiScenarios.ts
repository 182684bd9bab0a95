import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
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
/** Where a stack keeps data, searchable for bytes: each place that holds the needle (a file, the emulator's log). */
export interface StorageProbe {
  placesHolding(needle: string): Promise<string[]>;
}

/** Every file under `dir` (recursively) that contains the needle's bytes. */
export const filesHolding = (dir: string, needle: string): string[] => {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (readFileSync(file).includes(Buffer.from(needle, 'utf8'))) found.push(path.relative(dir, file));
  }
  return found;
};

export const userApiScenarios = (
  baseUrl: () => string,
  stores: { readonly eventStore: 'sqlite' | 'eventstoredb'; readonly readModels: 'sqlite' | 'redis' },
  storage: StorageProbe = { placesHolding: async () => [] },
): void => {
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

  describe('personal data: encryption, export and erasure', () => {
    it('seals personal data, exports it, and after DELETE leaves no readable trace; the address can be registered again', async () => {
      const tag = randomUUID().slice(0, 8);
      const [email, secondEmail] = [`privacy-${tag}@example.com`, `privacy2-${tag}@example.com`];
      const [displayName, reason] = [`Probe Person ${tag}`, `probe reason ${tag}`];
      const personal = [email, secondEmail, displayName, reason];

      const registered = await api('POST', '/users', { json: { email, displayName } });
      expect(registered.status, JSON.stringify(registered.json)).toBe(201);
      const id = registered.json['id'] as string;
      expect((await api('POST', `/users/${id}/email`, { json: { email: secondEmail } })).status).toBe(200);
      const suspended = await api('POST', `/users/${id}/suspension`, { json: { reason } });
      expect(suspended.status).toBe(200);
      await api('GET', `/users/${id}`, { headers: { 'x-consistency-token': suspended.headers.get('x-consistency-token') ?? '' } });

      // Never in clear where events or keys are kept: only the read model holds the view, until erasure.
      for (const needle of personal) {
        const places = await storage.placesHolding(needle);
        expect(places.filter((place) => !/read-models\.sqlite/.test(place)), needle).toEqual([]);
      }

      const exported = await api('GET', `/users/${id}/export`);
      expect(exported.status).toBe(200);
      expect(exported.json).toMatchObject({
        userId: id,
        erased: false,
        current: { email: secondEmail, displayName, status: 'suspended', emailVerified: false },
      });
      const exportedHistory = exported.json['history'] as Array<{ type: string; occurredAt: string; data: Record<string, unknown> }>;
      expect(exportedHistory.map((item) => item.type)).toEqual(['UserRegistered', 'EmailChanged', 'UserSuspended']);
      expect(exportedHistory.map((item) => item.data['email'] ?? item.data['reason'])).toEqual([email, secondEmail, reason]);
      expect(exportedHistory.every((item) => typeof item.occurredAt === 'string')).toBe(true);

      const erased = await api('DELETE', `/users/${id}`);
      expect(erased.status, JSON.stringify(erased.json)).toBe(200);
      const token = erased.headers.get('x-consistency-token') ?? '';
      expect(erased.json).toEqual({ id, revision: '3', position: token });
      expect(erased.headers.get('etag')).toBe('"3"');

      const gone = await api('GET', `/users/${id}`, { headers: { 'x-consistency-token': token } });
      expect(gone.status).toBe(410);
      expect(errorOf(gone).code).toBe('USER_ERASED');
      expect(gone.headers.get('x-read-model-stale')).toBeNull();
      const listed = await api('GET', `/users?limit=100`, { headers: { 'x-consistency-token': token } });
      expect((listed.json['items'] as Array<{ id: string }>).map((user) => user.id)).not.toContain(id);

      const history = await api('GET', `/users/${id}/events`);
      expect(history.status).toBe(200);
      const items = history.json['items'] as Array<{ type: string; erased?: boolean; data: Record<string, unknown> }>;
      expect(items.map((item) => [item.type, item.erased])).toEqual([
        ['UserRegistered', true],
        ['EmailChanged', true],
        ['UserSuspended', true],
        ['UserErased', true],
      ]);
      expect(items[0]?.data).toMatchObject({ email: null, displayName: null });
      expect(items[2]?.data).toMatchObject({ reason: null });
      expect(JSON.stringify(history.json)).not.toContain(tag);

      const afterExport = await api('GET', `/users/${id}/export`);
      expect(afterExport.json).toMatchObject({ erased: true, current: null });
      expect(JSON.stringify(afterExport.json)).not.toContain(tag);

      expect((await api('POST', `/users/${id}/reactivation`, { json: {} })).status).toBe(410);
      const again = await api('DELETE', `/users/${id}`);
      expect(again.status).toBe(200);
      expect(again.json).toEqual(erased.json);

      // Nothing personal of the erased user is left anywhere the service writes.
      for (const needle of personal) expect(await storage.placesHolding(needle), needle).toEqual([]);

      const reregistered = await api('POST', '/users', { json: { email: secondEmail, displayName: 'Someone Else' } });
      expect(reregistered.status, JSON.stringify(reregistered.json)).toBe(201);
    });
  });
};
