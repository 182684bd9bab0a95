import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { userIdOfPrincipal } from '#application/principal';
import { DEV_ISSUER } from '#scripts/devIssuer';
import type { ServiceStack } from '#test/support/serviceStack';

/** A minimal HTTP client for the API under test: status, headers and parsed JSON. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown>;
}

type ErrorBody = { error: { code: string; message: string; details?: { issues?: Array<{ path: string }> } } };
type CallOptions = { json?: unknown; raw?: string; headers?: Record<string, string>; token?: string };

const call = async (baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> => {
  const headers: Record<string, string> = {
    ...(options.json === undefined ? {} : { 'content-type': 'application/json' }),
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    ...options.headers,
  };
  const body = options.json === undefined ? options.raw : JSON.stringify(options.json);
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
};

const errorOf = (response: ApiResponse): ErrorBody['error'] => (response.json as ErrorBody).error;
const idsOf = (response: ApiResponse): string[] => (response.json['items'] as Array<{ id: string }>).map((user) => user.id);

/**
 * The end-to-end HTTP flow of the user API, against a running stack with its local development
 * issuer. Each e2e file boots one stack (its own storage configuration) and runs these same
 * scenarios on it.
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
  stack: () => ServiceStack,
  stores: { readonly eventStore: 'sqlite' | 'eventstoredb'; readonly readModels: 'sqlite' | 'redis' },
  storage: StorageProbe = { placesHolding: async () => [] },
): void => {
  const api = (method: string, path: string, options?: CallOptions) => call(stack().baseUrl, method, path, options);
  const freshEmail = () => `e2e-${randomUUID().slice(0, 8)}@example.com`;
  const admin = () => stack().token({ subject: 'e2e-admin', admin: true });

  /** A new identity with its token; `register` makes its own account. */
  const newcomer = async (extra: { email?: string; emailVerified?: boolean } = {}) => {
    const subject = `e2e-${randomUUID()}`;
    const token = await stack().token({ subject, ...extra });
    const id = userIdOfPrincipal({ issuer: DEV_ISSUER, subject });
    const register = (email = freshEmail(), displayName = 'Someone') => api('POST', '/users', { json: { email, displayName }, token });
    return { subject, token, id, register };
  };

  describe('a user’s life through the API', () => {
    it('registers, reads back, changes and verifies the email, is suspended, listed and shows the history', async () => {
      const correlationId = `e2e-${randomUUID()}`;
      const [email, newEmail] = [freshEmail(), freshEmail()];
      const ada = await newcomer();

      const registered = await api('POST', '/users', { json: { email, displayName: 'Ada Lovelace' }, token: ada.token, headers: { 'x-correlation-id': correlationId } });
      expect(registered.status, JSON.stringify(registered.json)).toBe(201);
      expect(registered.json['id']).toBe(ada.id);
      const token = registered.headers.get('x-consistency-token') ?? '';
      expect(registered.headers.get('location')).toBe(`/users/${ada.id}?consistentWith=${token}`);
      expect(registered.headers.get('etag')).toBe('"0"');
      expect(registered.headers.get('x-correlation-id')).toBe(correlationId);
      expect(registered.json).toEqual({ id: ada.id, revision: '0', position: expect.stringMatching(/^\d+$/) });

      // Following the Location at once reads the new user, not a surprising 404.
      const read = await api('GET', registered.headers.get('location') ?? '', { token: ada.token });
      expect(read.status).toBe(200);
      expect(read.headers.get('x-read-model-stale')).toBeNull();
      expect(read.headers.get('etag')).toBe('"0"');
      expect(read.json).toEqual({ id: ada.id, email, displayName: 'Ada Lovelace', status: 'active', emailVerified: false, registeredAt: expect.any(String), revision: '0' });

      const changed = await api('POST', `/users/${ada.id}/email`, { json: { email: newEmail.toUpperCase() }, token: ada.token, headers: { 'if-match': '"0"' } });
      expect(changed.status, JSON.stringify(changed.json)).toBe(200);
      expect(changed.headers.get('etag')).toBe('"1"');

      const unproven = await api('POST', `/users/${ada.id}/email/verification`, { json: { email: newEmail }, token: ada.token });
      expect(unproven.status).toBe(403);
      const mailbox = await stack().token({ subject: ada.subject, email: newEmail, emailVerified: true });
      const verified = await api('POST', `/users/${ada.id}/email/verification`, { json: { email: newEmail }, token: mailbox });
      expect(verified.status, JSON.stringify(verified.json)).toBe(200);

      const suspended = await api('POST', `/users/${ada.id}/suspension`, { json: { reason: 'chargeback' }, token: await admin(), headers: { 'if-match': '"2"' } });
      expect(suspended.status, JSON.stringify(suspended.json)).toBe(200);
      const suspendedToken = suspended.headers.get('x-consistency-token') ?? '';
      expect(suspended.json).toMatchObject({ id: ada.id, revision: '3' });

      const current = await api('GET', `/users/${ada.id}?consistentWith=${suspendedToken}`, { token: ada.token });
      expect(current.json).toMatchObject({ email: newEmail, status: 'suspended', emailVerified: true, revision: '3' });

      const suspendedList = await api('GET', `/users?status=suspended&limit=100&consistentWith=${suspendedToken}`, { token: await admin() });
      expect(suspendedList.status).toBe(200);
      expect(idsOf(suspendedList)).toContain(ada.id);
      expect(idsOf(await api('GET', `/users?status=active&limit=100&consistentWith=${suspendedToken}`, { token: await admin() }))).not.toContain(ada.id);

      const history = await api('GET', `/users/${ada.id}/events`, { token: ada.token });
      expect(history.status).toBe(200);
      const items = history.json['items'] as Array<Record<string, unknown>>;
      expect(items.map((item) => [item['type'], item['revision'], item['schemaVersion']])).toEqual([
        ['UserRegistered', '0', 1],
        ['EmailChanged', '1', 2],
        ['EmailVerified', '2', 1],
        ['UserSuspended', '3', 1],
      ]);
      expect(items[0]).toMatchObject({ position: registered.json['position'], occurredAt: expect.any(String), data: { email } });
      expect(items[0]?.['metadata']).toMatchObject({ $correlationId: correlationId, schemaVersion: 1, actor: { issuer: DEV_ISSUER, subject: ada.subject } });
      expect(items[3]?.['metadata']).toMatchObject({ actor: { issuer: DEV_ISSUER, subject: 'e2e-admin' } });

      const reactivated = await api('POST', `/users/${ada.id}/reactivation`, { token: await admin() });
      expect(reactivated.status, JSON.stringify(reactivated.json)).toBe(200);
      expect(reactivated.json['revision']).toBe('4');
    });

    it('pages through users with a cursor', async () => {
      for (let i = 0; i < 3; i++) expect((await (await newcomer()).register()).status).toBe(201);
      const last = await (await newcomer()).register();
      const token = last.headers.get('x-consistency-token') ?? '';
      const first = await api('GET', `/users?limit=2&consistentWith=${token}`, { token: await admin() });
      expect((first.json['items'] as unknown[]).length).toBe(2);
      const second = await api('GET', `/users?limit=2&cursor=${encodeURIComponent(first.json['nextCursor'] as string)}`, { token: await admin() });
      expect(second.status).toBe(200);
      for (const id of idsOf(second)) expect(idsOf(first)).not.toContain(id);
    });
  });

  describe('who may do what', () => {
    it('gives one identity one account: a second registration is 409 USER_ALREADY_REGISTERED', async () => {
      const bea = await newcomer();
      expect((await bea.register()).status).toBe(201);
      const again = await bea.register();
      expect(again.status).toBe(409);
      expect(errorOf(again).code).toBe('USER_ALREADY_REGISTERED');
    });

    it('lets an admin register someone else, and read, change and list them', async () => {
      const made = await api('POST', '/users', { json: { email: freshEmail(), displayName: 'On behalf' }, token: await admin() });
      expect(made.status).toBe(201);
      const id = made.json['id'] as string;
      expect(id).not.toBe(userIdOfPrincipal({ issuer: DEV_ISSUER, subject: 'e2e-admin' }));
      expect((await api('GET', `/users/${id}?consistentWith=${made.headers.get('x-consistency-token') ?? ''}`, { token: await admin() })).status).toBe(200);
      expect((await api('POST', `/users/${id}/email`, { json: { email: freshEmail() }, token: await admin() })).status).toBe(200);
      expect((await api('GET', `/users/${id}/events`, { token: await admin() })).status).toBe(200);
    });

    it('answers another user’s account as unknown (404), admin routes to a non-admin with 403, and writes nothing', async () => {
      const owner = await newcomer();
      const registered = await owner.register();
      const consistentWith = registered.headers.get('x-consistency-token') ?? '';
      const intruder = await newcomer();
      const asIntruder = (method: string, path: string, json?: unknown) => api(method, path, { token: intruder.token, ...(json === undefined ? {} : { json }) });
      for (const response of [
        await asIntruder('GET', `/users/${owner.id}?consistentWith=${consistentWith}`),
        await asIntruder('GET', `/users/${owner.id}/events`),
        await asIntruder('POST', `/users/${owner.id}/email`, { email: freshEmail() }),
        await asIntruder('POST', `/users/${owner.id}/email/verification`, { email: 'x@example.com' }),
        await asIntruder('GET', `/users/${owner.id}/export`),
        await asIntruder('DELETE', `/users/${owner.id}`),
      ]) {
        expect(response.status).toBe(404);
        expect(errorOf(response).code).toBe('USER_NOT_FOUND');
      }
      const unknown = await asIntruder('GET', `/users/${randomUUID()}`);
      expect(unknown.json).toEqual({ error: { ...errorOf(unknown), message: expect.stringMatching(/does not exist$/) } });
      for (const response of [
        await asIntruder('POST', `/users/${owner.id}/suspension`, { reason: 'spite' }),
        await asIntruder('POST', `/users/${owner.id}/reactivation`, {}),
        await asIntruder('GET', '/users'),
      ]) {
        expect(response.status).toBe(403);
        expect(errorOf(response).code).toBe('FORBIDDEN');
      }
      const history = await api('GET', `/users/${owner.id}/events`, { token: owner.token });
      expect((history.json['items'] as unknown[]).length).toBe(1);
    });

    it('lets a mail service with the verifier scope verify an address', async () => {
      const email = freshEmail();
      const owner = await newcomer();
      await owner.register(email);
      const mailer = await stack().token({ subject: 'e2e-mailer', verifier: true });
      expect((await api('POST', `/users/${owner.id}/email/verification`, { json: { email }, token: mailer })).status).toBe(200);
      expect((await api('GET', `/users/${owner.id}`, { token: mailer })).status).toBe(404);
    });

    it('refuses every route but /health without a valid token, with a Bearer challenge', async () => {
      const id = randomUUID();
      const forged = `${(await admin()).slice(0, -4)}AAAA`;
      for (const [method, path] of [
        ['POST', '/users'],
        ['GET', '/users'],
        ['GET', `/users/${id}`],
        ['GET', `/users/${id}/events`],
        ['POST', `/users/${id}/email`],
        ['POST', `/users/${id}/email/verification`],
        ['POST', `/users/${id}/suspension`],
        ['POST', `/users/${id}/reactivation`],
        ['DELETE', `/users/${id}`],
        ['GET', `/users/${id}/export`],
      ] as const) {
        for (const token of [undefined, forged]) {
          const body = method === 'POST' ? { json: { email: freshEmail(), displayName: 'X', reason: 'x' } } : {};
          const response = await api(method, path, { ...body, ...(token === undefined ? {} : { token }) });
          expect(response.status, `${method} ${path}`).toBe(401);
          expect(errorOf(response).code).toBe('UNAUTHENTICATED');
          expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="chronicle"/);
        }
      }
    });

    it('answers /health to anyone with its status only, and with the details to an admin', async () => {
      const anyone = await api('GET', '/health');
      expect(anyone.status).toBe(200);
      expect(anyone.json).toEqual({ status: 'ok' });
      const detailed = await api('GET', '/health', { token: await admin() });
      expect(detailed.json).toMatchObject({ status: 'ok', ...stores, head: expect.any(String) });
    });

    it('answers unknown routes and methods in its own format', async () => {
      const unknown = await api('GET', '/admin/secrets');
      expect(unknown.status).toBe(404);
      expect(errorOf(unknown).code).toBe('ROUTE_NOT_FOUND');
      const wrongMethod = await api('DELETE', '/users');
      expect(wrongMethod.status).toBe(405);
      expect(errorOf(wrongMethod).code).toBe('METHOD_NOT_ALLOWED');
      expect(wrongMethod.headers.get('allow')).toContain('POST');
    });
  });

  describe('time travel (from the event store)', () => {
    it('answers the user as of an instant or a revision, and pages the history', async () => {
      const [email, newEmail] = [freshEmail(), freshEmail()];
      const past = await newcomer();
      const adminToken = await admin();
      const registered = await past.register(email, 'Past');
      expect(registered.status, JSON.stringify(registered.json)).toBe(201);
      const id = past.id;
      expect((await api('POST', `/users/${id}/email`, { json: { email: newEmail }, token: past.token })).status).toBe(200);
      expect((await api('POST', `/users/${id}/suspension`, { json: { reason: 'x' }, token: adminToken })).status).toBe(200);
      const get = (path: string) => api('GET', path, { token: past.token });

      const first = await get(`/users/${id}/events?limit=2`);
      expect(first.status).toBe(200);
      const firstItems = first.json['items'] as Array<Record<string, string>>;
      expect(firstItems.map((item) => item['revision'])).toEqual(['0', '1']);
      const second = await get(`/users/${id}/events?limit=2&cursor=${encodeURIComponent(first.json['nextCursor'] as string)}`);
      expect((second.json['items'] as Array<Record<string, string>>).map((item) => item['revision'])).toEqual(['2']);
      expect(second.json['nextCursor']).toBeNull();

      const atZero = await get(`/users/${id}?atRevision=0`);
      expect(atZero.status).toBe(200);
      expect(atZero.headers.get('etag')).toBe('"0"');
      expect(atZero.json).toEqual({ id, email, displayName: 'Past', status: 'active', emailVerified: false, registeredAt: expect.any(String), revision: '0', asOf: firstItems[0]?.['recordedAt'] });

      const registeredAt = firstItems[0]?.['recordedAt'] ?? '';
      const asOfRegistration = await get(`/users/${id}?asOf=${encodeURIComponent(registeredAt)}`);
      expect(asOfRegistration.json).toMatchObject({ revision: '0', email, asOf: registeredAt });
      const later = await get(`/users/${id}?asOf=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
      expect(later.json).toMatchObject({ revision: '2', email: newEmail, status: 'suspended' });
      const window = await get(`/users/${id}/events?from=${encodeURIComponent(registeredAt)}&to=${encodeURIComponent(registeredAt)}`);
      expect((window.json['items'] as Array<Record<string, string>>).map((item) => item['revision'])).toContain('0');

      const before = await get(`/users/${id}?asOf=${encodeURIComponent(new Date(Date.parse(registeredAt) - 1).toISOString())}`);
      expect(before.status).toBe(404);
      expect(errorOf(before).code).toBe('USER_NOT_FOUND');
      expect((await get(`/users/${id}?atRevision=3`)).status).toBe(404);
      expect((await get(`/users/${id}?asOf=last-tuesday`)).status).toBe(400);
      expect((await get(`/users/${id}?atRevision=-1`)).status).toBe(400);
      expect((await get(`/users/${id}?atRevision=0&asOf=${encodeURIComponent(registeredAt)}`)).status).toBe(400);
      expect((await get(`/users/${id}/events?limit=1001`)).status).toBe(400);
      expect((await get(`/users/${id}/events?cursor=bogus`)).status).toBe(400);
    });
  });

  describe('idempotency', () => {
    it('appends once for the same key and body, refuses the key with another body (422), and scopes keys to the caller', async () => {
      const key = `e2e-${randomUUID()}`;
      const grace = await newcomer();
      const body = { email: freshEmail(), displayName: 'Grace Hopper' };
      const first = await api('POST', '/users', { json: body, token: grace.token, headers: { 'idempotency-key': key } });
      const second = await api('POST', '/users', { json: body, token: grace.token, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.json).toEqual(first.json);
      const reused = await api('POST', '/users', { json: { ...body, displayName: 'Someone Else' }, token: grace.token, headers: { 'idempotency-key': key } });
      expect(reused.status).toBe(422);
      expect(errorOf(reused).code).toBe('IDEMPOTENCY_KEY_REUSED');
      // Another caller's identical key is another command: it registers that caller's own account.
      const other = await newcomer();
      const theirs = await api('POST', '/users', { json: { email: freshEmail(), displayName: 'Other' }, token: other.token, headers: { 'idempotency-key': key } });
      expect(theirs.status).toBe(201);
      expect(theirs.json['id']).toBe(other.id);

      const suspendKey = `e2e-${randomUUID()}`;
      await api('POST', `/users/${grace.id}/suspension`, { json: { reason: 'test' }, token: await admin(), headers: { 'idempotency-key': suspendKey } });
      expect((await api('POST', `/users/${grace.id}/suspension`, { json: { reason: 'test' }, token: await admin(), headers: { 'idempotency-key': suspendKey } })).status).toBe(200);
      const history = await api('GET', `/users/${grace.id}/events`, { token: grace.token });
      expect((history.json['items'] as unknown[]).length).toBe(2);
    });
  });

  describe('client errors', () => {
    it('answers 400 naming each bad field', async () => {
      const response = await api('POST', '/users', { json: { email: 42 }, token: (await newcomer()).token });
      expect(response.status).toBe(400);
      expect(errorOf(response).code).toBe('VALIDATION_FAILED');
      expect(errorOf(response).details?.issues?.map((issue) => issue.path).sort()).toEqual(['displayName', 'email']);
    });

    it('answers 400 for an invalid or disguised email address, naming it', async () => {
      for (const email of ['not-an-email', 'ada\u200b@example.com', 'ada@exa\u202emple.com']) {
        const response = await (await newcomer()).register(email, 'X');
        expect(response.status).toBe(400);
        expect(errorOf(response).details?.issues?.map((issue) => issue.path)).toEqual(['email']);
      }
    });

    it('answers 400 for malformed JSON, a non-UUID id, out-of-range list parameters and a forged consistency token', async () => {
      const token = await admin();
      expect((await api('POST', '/users', { raw: '{"email":', token, headers: { 'content-type': 'application/json' } })).status).toBe(400);
      expect((await api('GET', '/users/not-a-uuid', { token })).status).toBe(400);
      expect((await api('GET', '/users?limit=0', { token })).status).toBe(400);
      expect((await api('GET', '/users?limit=101', { token })).status).toBe(400);
      expect((await api('GET', '/users?status=deleted', { token })).status).toBe(400);
      const forged = await api('GET', `/users?consistentWith=${'A'.repeat(10)}_${'B'.repeat(21)}`, { token });
      expect(forged.status).toBe(400);
      expect(errorOf(forged).details?.issues?.map((issue) => issue.path)).toEqual(['consistentWith']);
      expect((await api('GET', `/users/${randomUUID()}`, { token, headers: { 'x-consistency-token': '999999999999' } })).status).toBe(400);
    });

    it('answers 415 for a body that is not JSON', async () => {
      const response = await api('POST', '/users', { raw: 'email=a@example.com', token: (await newcomer()).token, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(response.status).toBe(415);
      expect(errorOf(response).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 413 for a body over the limit', async () => {
      expect((await (await newcomer()).register(freshEmail(), 'x'.repeat(20_000))).status).toBe(413);
    });

    it('answers 404 for unknown users', async () => {
      const unknown = randomUUID();
      const token = await admin();
      expect(errorOf(await api('GET', `/users/${unknown}`, { token })).code).toBe('USER_NOT_FOUND');
      expect((await api('GET', `/users/${unknown}/events`, { token })).status).toBe(404);
      expect((await api('POST', `/users/${unknown}/suspension`, { json: { reason: 'x' }, token })).status).toBe(404);
    });

    it('answers 412 for a stale or weak If-Match and 400 for a malformed one', async () => {
      const owner = await newcomer();
      await owner.register();
      const token = await admin();
      expect((await api('POST', `/users/${owner.id}/suspension`, { json: { reason: 'x' }, token, headers: { 'if-match': '"0"' } })).status).toBe(200);
      const stale = await api('POST', `/users/${owner.id}/reactivation`, { token, headers: { 'if-match': '"0"' } });
      expect(stale.status).toBe(412);
      expect(errorOf(stale).code).toBe('PRECONDITION_FAILED');
      expect((await api('POST', `/users/${owner.id}/reactivation`, { token, headers: { 'if-match': 'W/"1"' } })).status).toBe(412);
      expect((await api('POST', `/users/${owner.id}/reactivation`, { token, headers: { 'if-match': 'yesterday' } })).status).toBe(400);
    });

    it('answers 409 for an email another user holds, in any disguise, and for a rule the state breaks', async () => {
      const email = freshEmail();
      const first = await newcomer();
      expect((await first.register(email, 'First')).status).toBe(201);
      const [local, domain] = email.split('@') as [string, string];
      for (const disguise of [email.toUpperCase(), `${local}@${domain.replace('example', 'ｅｘａｍｐｌｅ')}`]) {
        const taken = await (await newcomer()).register(disguise, 'Second');
        expect(taken.status, disguise).toBe(409);
        expect(errorOf(taken).code).toBe('EMAIL_TAKEN');
      }
      const notSuspended = await api('POST', `/users/${first.id}/reactivation`, { json: {}, token: await admin() });
      expect(notSuspended.status).toBe(409);
      expect(errorOf(notSuspended).code).toBe('USER_NOT_SUSPENDED');
    });
  });

  describe('personal data: encryption, export and erasure', () => {
    it('seals personal data, exports it, and after DELETE leaves no readable trace; the address can be registered again', async () => {
      const tag = randomUUID().slice(0, 8);
      const [email, secondEmail] = [`privacy-${tag}@example.com`, `privacy2-${tag}@example.com`];
      const [displayName, reason] = [`Probe Person ${tag}`, `probe reason ${tag}`];
      const personal = [email, secondEmail, displayName, reason];
      const owner = await newcomer();
      const adminToken = await admin();

      const registered = await owner.register(email, displayName);
      expect(registered.status, JSON.stringify(registered.json)).toBe(201);
      const id = owner.id;
      expect((await api('POST', `/users/${id}/email`, { json: { email: secondEmail }, token: owner.token })).status).toBe(200);
      const suspended = await api('POST', `/users/${id}/suspension`, { json: { reason }, token: adminToken });
      expect(suspended.status).toBe(200);
      await api('GET', `/users/${id}`, { token: adminToken, headers: { 'x-consistency-token': suspended.headers.get('x-consistency-token') ?? '' } });

      // Never in clear where events or keys are kept: only the read model holds the view, until erasure.
      for (const needle of personal) {
        const places = await storage.placesHolding(needle);
        expect(places.filter((place) => !/read-models\.sqlite/.test(place)), needle).toEqual([]);
      }

      const exported = await api('GET', `/users/${id}/export`, { token: owner.token });
      expect(exported.status).toBe(200);
      expect(exported.json).toMatchObject({ userId: id, erased: false, current: { email: secondEmail, displayName, status: 'suspended', emailVerified: false } });
      const exportedHistory = exported.json['history'] as Array<{ type: string; occurredAt: string; data: Record<string, unknown>; metadata: Record<string, unknown> }>;
      expect(exportedHistory.map((item) => item.type)).toEqual(['UserRegistered', 'EmailChanged', 'UserSuspended']);
      expect(exportedHistory.map((item) => item.data['email'] ?? item.data['reason'])).toEqual([email, secondEmail, reason]);
      expect(exportedHistory.every((item) => typeof item.occurredAt === 'string' && item.metadata['actor'] !== undefined)).toBe(true);

      const erased = await api('DELETE', `/users/${id}`, { token: owner.token });
      expect(erased.status, JSON.stringify(erased.json)).toBe(200);
      const token = erased.headers.get('x-consistency-token') ?? '';
      expect(erased.json).toEqual({ id, revision: '3', position: expect.stringMatching(/^\d+$/) });
      expect(erased.headers.get('etag')).toBe('"3"');

      const gone = await api('GET', `/users/${id}`, { token: adminToken, headers: { 'x-consistency-token': token } });
      expect(gone.status).toBe(410);
      expect(errorOf(gone).code).toBe('USER_ERASED');
      expect(gone.headers.get('x-read-model-stale')).toBeNull();
      const listed = await api('GET', `/users?limit=100`, { token: adminToken, headers: { 'x-consistency-token': token } });
      expect(idsOf(listed)).not.toContain(id);

      const history = await api('GET', `/users/${id}/events`, { token: owner.token });
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

      const afterExport = await api('GET', `/users/${id}/export`, { token: owner.token });
      expect(afterExport.json).toMatchObject({ erased: true, current: null });
      expect(JSON.stringify(afterExport.json)).not.toContain(tag);

      expect((await api('POST', `/users/${id}/reactivation`, { json: {}, token: adminToken })).status).toBe(410);
      const again = await api('DELETE', `/users/${id}`, { token: owner.token });
      expect(again.status).toBe(200);
      expect(again.json).toEqual(erased.json);

      // Nothing personal of the erased user is left anywhere the service writes.
      for (const needle of personal) expect(await storage.placesHolding(needle), needle).toEqual([]);

      const reregistered = await (await newcomer()).register(secondEmail, 'Someone Else');
      expect(reregistered.status, JSON.stringify(reregistered.json)).toBe(201);
    });
  });
};
