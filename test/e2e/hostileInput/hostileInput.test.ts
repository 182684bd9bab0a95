import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userIdOfPrincipal } from '#application/principal';
import { DEV_ISSUER } from '#scripts/devIssuer';
import { startServiceStack, type ServiceStack } from '#test/support/serviceStack';
import { hostileCorpus, type HostileCase } from './corpus.ts';

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** node:http, not fetch: the path goes out byte for byte (fetch would resolve `..` and re-encode). */
const send = (baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const request = http.request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    if (body !== undefined) request.write(body);
    request.end();
  });

/**
 * The hostile-input corpus through the real HTTP stack (serverless-offline + the projector +
 * the local issuer): every request gets a 4xx JSON error naming the problem, and the log and
 * the stores show that nothing was written.
 */
describe('hostile input, end to end', () => {
  let stack: ServiceStack | undefined;
  const tokens = { owner: '', admin: '', intruder: '' };
  let ownerId = '';
  const takenEmail = `held-${randomUUID().slice(0, 8)}@example.com`;
  let validToken = '';

  const api = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await send(stack?.baseUrl ?? '', method, path, { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body === undefined ? undefined : JSON.stringify(body));
    return { ...response, json: JSON.parse(response.text || '{}') as Record<string, unknown> };
  };

  beforeAll(async () => {
    stack = await startServiceStack();
    const ownerSubject = `hostile-owner-${randomUUID()}`;
    tokens.owner = await stack.token({ subject: ownerSubject });
    tokens.admin = await stack.token({ subject: 'hostile-admin', admin: true });
    tokens.intruder = await stack.token({ subject: `hostile-intruder-${randomUUID()}` });
    ownerId = userIdOfPrincipal({ issuer: DEV_ISSUER, subject: ownerSubject });
    const registered = await api('POST', '/users', tokens.owner, { email: takenEmail, displayName: 'Owner' });
    expect(registered.status, registered.text).toBe(201);
    validToken = String(registered.headers['x-consistency-token']);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  const corpus = () => hostileCorpus({ ownerId, takenEmail, validToken });

  it('holds at least 300 requests', () => {
    expect(hostileCorpus({ ownerId: randomUUID(), takenEmail: 'a@example.com', validToken: 'A'.repeat(32) }).length).toBeGreaterThanOrEqual(300);
  });

  it('answers every one with a 4xx JSON error that names the problem, and writes nothing', async () => {
    const headBefore = (await api('GET', '/health', tokens.admin)).json['head'];
    const ownerBefore = await api('GET', `/users/${ownerId}/events`, tokens.owner);
    const failures: string[] = [];
    const authorizationOf = (as: HostileCase['as']): Record<string, string> => {
      if (typeof as === 'object') return { authorization: as.authorization };
      return as === 'nobody' ? {} : { authorization: `Bearer ${tokens[as]}` };
    };
    const cases = corpus();
    // A few at a time: hostile, not a load test.
    for (let i = 0; i < cases.length; i += 8) {
      await Promise.all(
        cases.slice(i, i + 8).map(async (c) => {
          const response = await send(stack?.baseUrl ?? '', c.method, c.path, { ...c.headers, ...authorizationOf(c.as) }, c.body);
          let error: { code?: unknown; message?: unknown } | undefined;
          try {
            error = (JSON.parse(response.text) as { error?: { code?: unknown; message?: unknown } }).error;
          } catch {
            error = undefined;
          }
          const named = typeof error?.code === 'string' && typeof error.message === 'string' && error.message !== '';
          const isJson = String(response.headers['content-type']).startsWith('application/json');
          if (!c.expect.includes(response.status) || !named || !isJson)
            failures.push(`${c.name}: ${response.status} ${String(response.headers['content-type'])} ${response.text.slice(0, 160)}`);
        }),
      );
    }
    expect(failures, failures.join('\n')).toEqual([]);
    // Nothing written: the log's head did not move, the owner's history is as it was.
    expect((await api('GET', '/health', tokens.admin)).json['head']).toBe(headBefore);
    expect((await api('GET', `/users/${ownerId}/events`, tokens.owner)).json).toEqual(ownerBefore.json);
    // No request was a server error.
    expect(stack?.output() ?? '').not.toMatch(/"status":5\d\d/);
  }, 240_000);
});
