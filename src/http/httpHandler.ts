import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { headerOf, requestInfoOf, type HttpEvent, type HttpResponse, type RequestInfo } from './httpEvent.ts';
import { httpErrors } from './httpErrors.ts';
import type { Logger } from '#logging/jsonLogger';
import { jsonBody } from './jsonBody.ts';
import { requestContext } from './requestContext.ts';
import { requestLog } from './requestLog.ts';
import { validation, type InputSchemas, type ValidInput } from './validation.ts';

export interface HttpStackDeps {
  readonly logger: Logger;
  readonly maxBodyBytes: number;
}

export interface RouteSpec<S extends InputSchemas> {
  /** As in serverless.yml, e.g. `POST /users/{id}/email`: names the route in logs. */
  readonly route: string;
  readonly schemas: S;
  /** The route takes a JSON body; `optional` also accepts none (read as `{}`). */
  readonly body?: 'required' | 'optional';
}

/** What a handler function sees: the validated input and the request's identity. */
export interface ParsedRequest<S extends InputSchemas> extends ValidInput<S> {
  readonly info: RequestInfo;
  header(name: string): string | undefined;
}

export type RouteHandler = (event: HttpEvent, context: Context) => Promise<HttpResponse>;

/**
 * The shared middleware stack, in order: request context → request log → error mapping →
 * JSON body → validation → the handler. middy runs `after`/`onError` in reverse, so the error
 * mapping answers first, the log sees the final status, and the context adds its headers last.
 */
export const httpHandler = <S extends InputSchemas>(
  deps: HttpStackDeps,
  spec: RouteSpec<S>,
  handle: (request: ParsedRequest<S>) => Promise<HttpResponse>,
): RouteHandler => {
  const stack = middy<HttpEvent, HttpResponse>().use(requestContext()).use(requestLog(deps.logger, spec.route)).use(httpErrors(deps.logger));
  if (spec.body !== undefined) stack.use(jsonBody({ maxBodyBytes: deps.maxBodyBytes, emptyBodyAllowed: spec.body === 'optional' }));
  stack.use(validation(spec.schemas));
  return stack.handler(async (event: HttpEvent) => {
    const input = event.input as ValidInput<S>;
    return handle({ ...input, info: requestInfoOf(event), header: (name) => headerOf(event, name) });
  }) as RouteHandler;
};
