import type { MiddlewareObj, Request } from '@middy/core';
import type { HttpEvent, HttpResponse } from './httpEvent.ts';
import type { Logger } from '#logging/jsonLogger';

/** One line per request: method, route, status, duration, correlation id. No bodies, no query strings. */
export const requestLog = (logger: Logger, route: string): MiddlewareObj<HttpEvent, HttpResponse> => {
  const requestLogAfter = (request: Request<HttpEvent, HttpResponse>): void => {
    const info = request.event.chronicle;
    const status = request.response?.statusCode ?? 500;
    const fields = {
      method: request.event.requestContext?.http?.method,
      route,
      status,
      durationMs: info === undefined ? undefined : Date.now() - info.startedAt,
      correlationId: info?.correlationId,
      requestId: info?.requestId,
    };
    if (status >= 500) logger.error('request', fields);
    else logger.info('request', fields);
  };
  return { after: requestLogAfter, onError: requestLogAfter };
};
