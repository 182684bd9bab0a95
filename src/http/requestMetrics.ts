import type { MiddlewareObj, Request } from '@middy/core';
import type { HttpEvent, HttpResponse } from './httpEvent.ts';
import { STALE_HEADER } from './userViewBody.ts';

/** What one answered request counts for; the adapter decides how it is published (Powertools EMF on Lambda). */
export interface AnsweredRequest {
  readonly route: string;
  readonly status: number;
  /** The read-your-writes wait gave up: the answer carries `X-Read-Model-Stale: true`. */
  readonly stale: boolean;
}

export interface RequestMetrics {
  answered(request: AnsweredRequest): void;
}

/**
 * Counts every answer, after the error mapping has chosen its status (so a 500 built from a caught
 * error counts as one: Lambda's own Errors metric never sees those).
 */
export const requestMetrics = (metrics: RequestMetrics, route: string): MiddlewareObj<HttpEvent, HttpResponse> => {
  const requestMetricsAfter = (request: Request<HttpEvent, HttpResponse>): void => {
    const response = request.response;
    metrics.answered({ route, status: response?.statusCode ?? 500, stale: response?.headers[STALE_HEADER] === 'true' });
  };
  return { after: requestMetricsAfter, onError: requestMetricsAfter };
};
