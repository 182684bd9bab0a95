import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConcurrencyError, MalformedEventError, NotFoundError, PreconditionFailedError, RuleViolatedError, UnavailableError, ValidationError } from '#domain/errors';
import { EmailTakenError } from '#domain/emailReservation';
import { httpHandler } from '#http/httpHandler';
import { createJsonLogger } from '#logging/jsonLogger';
import { jsonResponse } from '#http/jsonResponse';
import { thingsEvent } from '#test/support/httpEvents';
import { testStackDeps } from '#test/support/testIdentity';

const context = { awsRequestId: 'lambda-request-1' } as Context;

const setup = (handle: (body: unknown) => Promise<unknown> = async (body) => body, options: { body?: 'required' | 'optional' } = { body: 'required' }) => {
  const lines: string[] = [];
  const logger = createJsonLogger('http', 'info', (line) => lines.push(line));
  const handler = httpHandler(
    testStackDeps(logger, 100),
    { route: 'POST /things', access: 'public', ...options, schemas: { body: z.object({ email: z.string(), count: z.number().int() }).or(z.object({})) } },
    async (request) => jsonResponse(200, await handle(request.body)),
  );
  const logs = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { handler, logs, lines };
};

const strictSetup = () => {
  const lines: string[] = [];
  const handler = httpHandler(
    testStackDeps(createJsonLogger('http', 'info', (line) => lines.push(line)), 1000),
    {
      route: 'POST /users/{id}',
      access: 'public',
      body: 'required',
      schemas: { body: z.object({ email: z.string(), displayName: z.string() }), path: z.object({ id: z.uuid() }) },
    },
    async (request) => jsonResponse(200, request.body),
  );
  return { handler, lines };
};

const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string; message: string; details?: { issues?: Array<{ path: string }> } } }).error;

describe('the HTTP middleware stack', () => {
  describe('request context', () => {
    it('returns the caller’s X-Correlation-Id on success', async () => {
      const { handler } = setup();
      const response = await handler(thingsEvent({ headers: { 'content-type': 'application/json', 'X-Correlation-Id': 'corr-42' }, body: '{}' }), context);
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-correlation-id']).toBe('corr-42');
      expect(response.headers['x-request-id']).toBe('lambda-request-1');
    });

    it('creates a correlation id when none (or an unsafe one) is sent, and returns it on errors too', async () => {
      const { handler } = setup();
      const response = await handler(thingsEvent({ headers: { 'content-type': 'text/plain', 'x-correlation-id': 'bad id\n' }, body: 'x' }), context);
      expect(response.statusCode).toBe(415);
      expect(response.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('JSON body', () => {
    it('answers 415 for a body that is not JSON', async () => {
      const { handler } = setup();
      const response = await handler(thingsEvent({ headers: { 'content-type': 'text/plain' }, body: 'email=a' }), context);
      expect(response.statusCode).toBe(415);
      expect(errorOf(response.body).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('accepts application/json with a charset', async () => {
      const { handler } = setup();
      const response = await handler(thingsEvent({ headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{}' }), context);
      expect(response.statusCode).toBe(200);
    });

    it('answers 413 above the size limit', async () => {
      const { handler } = setup();
      const response = await handler(thingsEvent({ body: JSON.stringify({ email: 'x'.repeat(200) }) }), context);
      expect(response.statusCode).toBe(413);
      expect(errorOf(response.body).code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('answers 400 for malformed JSON', async () => {
      const { handler } = setup();
      const response = await handler(thingsEvent({ body: '{"email":' }), context);
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body).code).toBe('MALFORMED_JSON');
    });

    it('answers 400 for a missing body where one is required', async () => {
      const { handler } = setup();
      expect((await handler(thingsEvent({ headers: {} }), context)).statusCode).toBe(400);
    });

    it('reads an empty body as {} where the body is optional, whatever the content type', async () => {
      const { handler } = setup(async (body) => body, { body: 'optional' });
      const response = await handler(thingsEvent({ headers: {}, body: '' }), context);
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toEqual({});
    });

    it('decodes a base64 body', async () => {
      const { handler } = setup();
      const response = await handler(thingsEvent({ isBase64Encoded: true, body: Buffer.from('{"email":"a","count":2}').toString('base64') }), context);
      expect(JSON.parse(response.body)).toEqual({ email: 'a', count: 2 });
    });
  });

  describe('validation', () => {
    it('answers 400 naming every bad field, in body and path', async () => {
      const { handler } = strictSetup();
      const response = await handler(thingsEvent({ body: JSON.stringify({ email: 3 }), pathParameters: { id: 'not-a-uuid' } }), context);
      expect(response.statusCode).toBe(400);
      const error = errorOf(response.body);
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.details?.issues?.map((issue) => issue.path).sort()).toEqual(['displayName', 'email', 'id']);
    });

    it('answers 400 for a JSON body that is not an object', async () => {
      const { handler } = strictSetup();
      const response = await handler(thingsEvent({ body: '[1,2]', pathParameters: { id: '6f0d8c2e-4b1a-4e3f-9a7c-2d8e1f4b6a90' } }), context);
      expect(response.statusCode).toBe(400);
    });
  });

  describe('error mapping', () => {
    const cases: Array<[string, Error, number, string]> = [
      ['validation', new ValidationError('bad', [{ path: 'email', message: 'bad' }]), 400, 'VALIDATION_FAILED'],
      ['not found', new NotFoundError('USER_NOT_FOUND', 'no such user'), 404, 'USER_NOT_FOUND'],
      ['rule violated', new RuleViolatedError('USER_SUSPENDED', 'suspended'), 409, 'USER_SUSPENDED'],
      ['email taken', new EmailTakenError(), 409, 'EMAIL_TAKEN'],
      ['conflict', new ConcurrencyError('user-1', '1', '2'), 409, 'CONCURRENCY_CONFLICT'],
      ['precondition failed', new PreconditionFailedError('moved'), 412, 'PRECONDITION_FAILED'],
      ['unavailable', new UnavailableError('down'), 503, 'STORE_UNAVAILABLE'],
    ];
    it.each(cases)('maps %s to its status and code', async (_name, error, status, code) => {
      const { handler } = setup(async () => {
        throw error;
      });
      const response = await handler(thingsEvent({ body: '{}' }), context);
      expect(response.statusCode).toBe(status);
      expect(errorOf(response.body).code).toBe(code);
      expect(response.headers['x-read-model-stale']).toBeUndefined();
    });

    it('answers a stored event it cannot read with a 500, not as the caller’s fault', async () => {
      const { handler, logs } = setup(async () => {
        throw new MalformedEventError('UserRegistered v1 is malformed');
      });
      const response = await handler(thingsEvent({ body: '{}' }), context);
      expect(response.statusCode).toBe(500);
      expect(errorOf(response.body).code).toBe('INTERNAL_ERROR');
      expect(JSON.stringify(logs())).toContain('UserRegistered v1 is malformed');
    });

    it('marks a not-found answer stale when the wait for the consistency token ran out', async () => {
      const { handler } = setup(async () => {
        throw new NotFoundError('USER_NOT_FOUND', 'no such user', { userId: 'u1', stale: true });
      });
      const response = await handler(thingsEvent({ body: '{}' }), context);
      expect(response.statusCode).toBe(404);
      expect(response.headers['x-read-model-stale']).toBe('true');
    });

    it('answers an unexpected error with a generic 500 and keeps the details in the log', async () => {
      const { handler, logs } = setup(async () => {
        throw new TypeError('secret internals of ada@example.com');
      });
      const response = await handler(thingsEvent({ body: '{}' }), context);
      expect(response.statusCode).toBe(500);
      expect(response.body).not.toContain('secret');
      expect(errorOf(response.body)).toEqual({ code: 'INTERNAL_ERROR', message: expect.any(String) });
      expect(JSON.stringify(logs())).toContain('secret internals');
    });
  });

  describe('request log', () => {
    it('writes one line per request with method, route, status, duration and correlation id', async () => {
      const { handler, logs } = setup();
      await handler(thingsEvent({ headers: { 'content-type': 'application/json', 'x-correlation-id': 'corr-7' }, body: '{}' }), context);
      expect(logs()).toEqual([
        expect.objectContaining({ message: 'request', method: 'POST', route: 'POST /things', status: 200, correlationId: 'corr-7', durationMs: expect.any(Number) }),
      ]);
    });

    it('never writes an email address', async () => {
      const { handler, lines } = setup(async () => {
        throw new Error('failed for Ada.Lovelace+x@Example.co.uk');
      });
      await handler(thingsEvent({ body: JSON.stringify({ email: 'ada@example.com', count: 1 }) }), context);
      expect(lines.join('')).not.toMatch(/example/i);
      expect(lines.join('')).toContain('[redacted-email]');
    });
  });
});
