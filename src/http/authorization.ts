import type { MiddlewareObj, Request } from '@middy/core';
import { authorize, type AccessRule } from '#application/authorization';
import { UnauthenticatedError } from '#domain/errors';
import type { HttpEvent, HttpResponse } from './httpEvent.ts';

/** The route's access rule, judged on the verified principal and the validated path id. */
export const authorization = (rule: AccessRule): MiddlewareObj<HttpEvent, HttpResponse> => {
  const authorizationBefore = (request: Request<HttpEvent, HttpResponse>): void => {
    const principal = request.event.principal;
    if (principal === undefined) throw new UnauthenticatedError('missing');
    const path = (request.event.input as { path?: { id?: unknown } } | undefined)?.path;
    const targetUserId = typeof path?.id === 'string' ? path.id : undefined;
    authorize({ principal, rule, ...(targetUserId === undefined ? {} : { targetUserId }) });
  };
  return { before: authorizationBefore };
};
