import type { MiddlewareObj, Request } from '@middy/core';
import { isChronicleError } from '#domain/errors';
import { errorResponse } from './errorMapping.ts';
import type { HttpEvent, HttpResponse } from './httpEvent.ts';
import type { Logger } from '#logging/jsonLogger';

/** The single onError: every failure becomes `{error: {code, message, details?}}` with its status. */
export const httpErrors = (logger: Logger): MiddlewareObj<HttpEvent, HttpResponse> => {
  const httpErrorsOnError = (request: Request<HttpEvent, HttpResponse>): void => {
    const error = request.error;
    request.response = errorResponse(error);
    if (!isChronicleError(error) || error.kind === 'unavailable')
      logger.error('request failed', { error, correlationId: request.event.chronicle?.correlationId, requestId: request.event.chronicle?.requestId });
  };
  return { onError: httpErrorsOnError };
};
