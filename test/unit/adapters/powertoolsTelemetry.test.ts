import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { createLambdaTelemetry } from '#adapters/powertools/powertoolsTelemetry';
import type { HttpEvent } from '#http/httpEvent';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { staleHeader } from '#http/userViewBody';
import { testStackDeps } from '#test/support/testIdentity';
import { thingsEvent } from '#test/support/httpEvents';

const context = {
  awsRequestId: 'lambda-request-1',
  functionName: 'chronicle-test-things',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:chronicle-test-things',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 29_000,
} as unknown as Context;

const eventOf = (body: unknown): HttpEvent => thingsEvent({ body: JSON.stringify(body) });

/** Powertools writes through its own Console on process.stdout and process.stderr: capture both. */
let written: string[] = [];
beforeEach(() => {
  written = [];
  vi.stubEnv('POWERTOOLS_DEV', '');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'chronicle-test-things');
  for (const stream of [process.stdout, process.stderr])
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const lines = (): Array<Record<string, unknown>> =>
  written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const logLines = () => lines().filter((line) => !('_aws' in line));
const emfLines = () => lines().filter((line) => '_aws' in line);

const setup = (handle: (body: { email?: string }) => Promise<ReturnType<typeof jsonResponse>>, metricsDisabled = false) => {
  const telemetry = createLambdaTelemetry({ component: 'http', level: 'info', stage: 'test', serviceName: 'chronicle', metricsDisabled });
  const handler = httpHandler(
    { ...testStackDeps(telemetry.logger), telemetry: telemetry.http },
    { route: 'POST /things', access: 'public', body: 'required', schemas: { body: z.object({ email: z.string().optional() }) } },
    async (request) => handle(request.body),
  );
  return { handler, telemetry };
};

describe('the Lambdas’ logs and metrics (Powertools)', () => {
  describe('logs', () => {
    it('are Powertools JSON lines with the Lambda context and our fields', async () => {
      const { handler } = setup(async () => jsonResponse(200, {}));
      await handler(eventOf({}), context);
      expect(logLines()).toEqual([
        expect.objectContaining({
          level: 'INFO',
          message: 'request',
          service: 'chronicle',
          component: 'http',
          function_name: 'chronicle-test-things',
          function_request_id: 'lambda-request-1',
          cold_start: expect.any(Boolean),
          route: 'POST /things',
          status: 200,
        }),
      ]);
    });

    it('never carry an email address: not in a message, a field, nor an error’s message or stack', async () => {
      const { handler, telemetry } = setup(async () => {
        throw new Error('failed for Ada.Lovelace+x@Example.co.uk');
      });
      telemetry.logger.warn('lookup of grace@example.org failed', { email: 'grace@example.org', nested: { to: ['ada@example.com'] } });
      const response = await handler(eventOf({ email: 'ada@example.com' }), context);
      expect(response.statusCode).toBe(500);
      const text = written.join('');
      expect(text).not.toMatch(/example\.(com|org|co)/i);
      expect(text).toContain('[redacted-email]');
      expect(logLines().some((line) => JSON.stringify(line['error'] ?? '').includes('[redacted-email]'))).toBe(true);
    });
  });

  describe('metrics', () => {
    it('count every answer by route in EMF, a 500 the error mapping built as a server error', async () => {
      const { handler } = setup(async () => {
        throw new Error('boom');
      });
      await handler(eventOf({}), context);
      const requests = emfLines().find((line) => 'Requests' in line);
      expect(requests).toMatchObject({ service: 'chronicle', Stage: 'test', route: 'POST /things', Requests: 1, ServerErrors: 1 });
      expect(JSON.stringify((requests?.['_aws'] as { CloudWatchMetrics: unknown }).CloudWatchMetrics)).toContain('"Namespace":"Chronicle"');
    });

    it('count a stale read, and a client error as no server error', async () => {
      const { handler } = setup(async () => jsonResponse(200, {}, staleHeader(true)));
      await handler(eventOf({}), context);
      await handler(eventOf({ email: 42 }), context);
      const [stale, invalid] = emfLines().filter((line) => 'Requests' in line);
      expect(stale).toMatchObject({ Requests: 1, ServerErrors: 0, StaleReads: 1 });
      expect(invalid).toMatchObject({ Requests: 1, ServerErrors: 0 });
      expect(invalid).not.toHaveProperty('StaleReads');
    });

    it('write nothing, not even a warning, when disabled', async () => {
      const { handler } = setup(async () => jsonResponse(200, {}), true);
      await handler(eventOf({}), context);
      // Everything written to stdout and stderr, plain text too (Powertools' warnings are not JSON):
      // the request's log line and nothing else.
      const writtenLines = written
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '');
      expect(writtenLines).toEqual([expect.stringContaining('"message":"request"')]);
      expect(emfLines()).toEqual([]);
    });
  });
});
