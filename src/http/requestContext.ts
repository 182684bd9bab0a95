import { randomUUID } from 'node:crypto';
import type { MiddlewareObj, Request } from '@middy/core';
import { headerOf, type HttpEvent, type HttpResponse } from './httpEvent.ts';

// A caller's id is echoed into logs and event metadata, so only a safe shape is accepted.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Reads X-Correlation-Id (or creates one) and a request id before anything else runs, and
 * returns both on every response, errors included.
 */
export const requestContext = (): MiddlewareObj<HttpEvent, HttpResponse> => {
  const requestContextBefore = (request: Request<HttpEvent, HttpResponse>): void => {
    const given = headerOf(request.event, 'x-correlation-id')?.trim();
    request.event.chronicle = {
      correlationId: given !== undefined && SAFE_ID.test(given) ? given : randomUUID(),
      requestId: request.context?.awsRequestId ?? request.event.requestContext?.requestId ?? randomUUID(),
      startedAt: Date.now(),
    };
  };
  const requestContextAfter = (request: Request<HttpEvent, HttpResponse>): void => {
    const info = request.event.chronicle;
    if (request.response === null || request.response === undefined || info === undefined) return;
    request.response.headers = { ...request.response.headers, 'x-correlation-id': info.correlationId, 'x-request-id': info.requestId };
  };
  return { before: requestContextBefore, after: requestContextAfter, onError: requestContextAfter };
};
