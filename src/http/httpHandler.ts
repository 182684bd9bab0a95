import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AccessRule } from '#application/authorization';
import type { Logger } from '#logging/jsonLogger';
import type { Principal, TokenVerifier } from '#ports/tokenVerifier';
import { authentication } from './authentication.ts';
import { authorization } from './authorization.ts';
import type { ConsistencyTokens } from './consistencyToken.ts';
import { headerOf, requestInfoOf, type HttpEvent, type HttpResponse, type RequestInfo } from './httpEvent.ts';
import { httpErrors } from './httpErrors.ts';
import { jsonBody } from './jsonBody.ts';
import { requestContext } from './requestContext.ts';
import type { RequestFingerprinter } from './requestFingerprint.ts';
import { requestLog } from './requestLog.ts';
import { requestMetrics, type RequestMetrics } from './requestMetrics.ts';
import { validation, type InputSchemas, type ValidInput } from './validation.ts';

/**
 * Logs and metrics of the platform the stack runs on (on Lambda: Powertools, see
 * src/adapters/powertools/powertoolsTelemetry.ts): middlewares around the whole stack, and the
 * request counts.
 */
export interface HttpTelemetry {
  readonly middlewares: ReadonlyArray<MiddlewareObj<HttpEvent, HttpResponse>>;
  readonly metrics: RequestMetrics;
}

/** What every route's stack needs: the log, the body bound, and the request security pieces. */
export interface HttpStackDeps {
  readonly logger: Logger;
  /** None in tests and tools that call handlers directly. */
  readonly telemetry?: HttpTelemetry;
  readonly maxBodyBytes: number;
  readonly tokenVerifier: TokenVerifier;
  readonly consistencyTokens: ConsistencyTokens;
  readonly fingerprintRequest: RequestFingerprinter;
}

/** `public`: anyone (a verified token, when one is sent, is still read: GET /health shows it more). */
export type RouteAccess = AccessRule | 'public';

export interface RouteSpec<S extends InputSchemas, A extends RouteAccess> {
  /** As in serverless.yml, e.g. `POST /users/{id}/email`: names the route in logs. */
  readonly route: string;
  /** Who may call it (src/application/authorization.ts). */
  readonly access: A;
  readonly schemas: S;
  /** The route takes a JSON body; `optional` also accepts none (read as `{}`). */
  readonly body?: 'required' | 'optional';
}

/** What a handler function sees: the validated input, the caller, and the request's identity. */
export interface ParsedRequest<S extends InputSchemas, A extends RouteAccess = RouteAccess> extends ValidInput<S> {
  readonly route: string;
  /** As received, for the catch-all route. */
  readonly method: string;
  readonly rawPath: string;
  readonly info: RequestInfo;
  readonly principal: A extends 'public' ? Principal | undefined : Principal;
  readonly consistencyTokens: ConsistencyTokens;
  readonly fingerprintRequest: RequestFingerprinter;
  header(name: string): string | undefined;
}

export type RouteHandler = (event: HttpEvent, context: Context) => Promise<HttpResponse>;

/**
 * The shared middleware stack, in order: telemetry (when given) → request context → request log →
 * request metrics → error mapping → authentication → JSON body → validation → authorization →
 * the handler. Nobody learns
 * anything about a route's input before their token is verified, and the access rule sees the
 * validated path. middy runs `after`/`onError` in reverse, so the error mapping answers first,
 * the log sees the final status, and the context adds its headers last.
 */
export const httpHandler = <S extends InputSchemas, A extends RouteAccess>(
  deps: HttpStackDeps,
  spec: RouteSpec<S, A>,
  handle: (request: ParsedRequest<S, A>) => Promise<HttpResponse>,
): RouteHandler => {
  const stack = middy<HttpEvent, HttpResponse>();
  for (const middleware of deps.telemetry?.middlewares ?? []) stack.use(middleware);
  stack.use(requestContext()).use(requestLog(deps.logger, spec.route));
  if (deps.telemetry !== undefined) stack.use(requestMetrics(deps.telemetry.metrics, spec.route));
  stack.use(httpErrors(deps.logger));
  stack.use(authentication(deps.tokenVerifier, { optional: spec.access === 'public' }));
  if (spec.body !== undefined) stack.use(jsonBody({ maxBodyBytes: deps.maxBodyBytes, emptyBodyAllowed: spec.body === 'optional' }));
  stack.use(validation(spec.schemas));
  if (spec.access !== 'public') stack.use(authorization(spec.access));
  return stack.handler(async (event: HttpEvent) => {
    const input = event.input as ValidInput<S>;
    return handle({
      ...input,
      route: spec.route,
      method: event.requestContext?.http?.method ?? 'GET',
      rawPath: event.rawPath ?? '/',
      info: requestInfoOf(event),
      principal: event.principal as ParsedRequest<S, A>['principal'],
      consistencyTokens: deps.consistencyTokens,
      fingerprintRequest: deps.fingerprintRequest,
      header: (name) => headerOf(event, name),
    });
  }) as RouteHandler;
};
