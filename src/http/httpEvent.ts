import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Principal } from '#ports/tokenVerifier';

/** What the request-context middleware learns about a request, for logs, metadata and replies. */
export interface RequestInfo {
  readonly correlationId: string;
  readonly requestId: string;
  readonly startedAt: number;
}

/**
 * The API Gateway (httpApi, payload 2.0) event as it passes down the stack: middlewares add
 * the request info, the parsed JSON body and the validated input.
 */
export type HttpEvent = APIGatewayProxyEventV2 & {
  chronicle?: RequestInfo;
  /** Set by the authentication middleware from a token it verified itself (never from authorizer claims). */
  principal?: Principal;
  json?: unknown;
  input?: unknown;
};

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Header lookup regardless of case (API Gateway lower-cases; other callers may not). */
export const headerOf = (event: Pick<APIGatewayProxyEventV2, 'headers'>, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted && value !== undefined) return value;
  return undefined;
};

export const requestInfoOf = (event: HttpEvent): RequestInfo => {
  if (event.chronicle === undefined) throw new Error('the request-context middleware did not run');
  return event.chronicle;
};
