import type { HttpEvent } from '#http/httpEvent';

/** An API Gateway (payload 2.0) event for `POST /things`, the route the HTTP stack's unit tests mount. */
export const thingsEvent = (overrides: Partial<HttpEvent> = {}): HttpEvent =>
  ({
    version: '2.0',
    routeKey: 'POST /things',
    rawPath: '/things',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { requestId: 'apigw-request-1', http: { method: 'POST', path: '/things' } },
    isBase64Encoded: false,
    ...overrides,
  }) as HttpEvent;
