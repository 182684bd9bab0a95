import { isChronicleError, isUnauthenticatedError, type ChronicleError, type ErrorKind } from '#domain/errors';
import type { HttpResponse } from './httpEvent.ts';
import { jsonResponse } from './jsonResponse.ts';
import { staleHeader } from './userViewBody.ts';

/** The one mapping from error kinds to HTTP statuses. */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  gone: 410,
  method_not_allowed: 405,
  rule_violated: 409,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  unavailable: 503,
};

export const errorBody = (code: string, message: string, details?: Readonly<Record<string, unknown>>) => ({
  error: { code, message, ...(details === undefined ? {} : { details }) },
});

const REALM = 'Bearer realm="chronicle"';

/** RFC 6750 § 3: no error code when no credentials came, `invalid_token` or `insufficient_scope` otherwise. */
const challengeOf = (error: ChronicleError): Record<string, string> => {
  if (isUnauthenticatedError(error)) return { 'www-authenticate': error.reason === 'missing' ? REALM : `${REALM}, error="invalid_token"` };
  if (error.kind === 'forbidden') return { 'www-authenticate': `${REALM}, error="insufficient_scope"` };
  return {};
};

const allowOf = (error: ChronicleError): Record<string, string> => {
  const allow = error.details?.['allow'];
  return error.kind === 'method_not_allowed' && Array.isArray(allow) ? { allow: allow.join(', ') } : {};
};

const headersOf = (error: ChronicleError): Record<string, string> => ({
  ...(error.kind === 'unavailable' ? { 'retry-after': '1' } : {}),
  ...challengeOf(error),
  ...allowOf(error),
  // A read that gave up waiting for its consistency token says so, whatever it found (a 404 included).
  ...staleHeader(error.details?.['stale'] === true),
});

/**
 * An outage is told in our words only: the adapters' messages carry driver text, hosts and
 * stream names, which belong in the log.
 */
const publicBodyOf = (error: ChronicleError) =>
  error.kind === 'unavailable'
    ? errorBody(error.code, 'a store did not answer in time; retry shortly')
    : errorBody(error.code, error.message, error.details);

const fromChronicleError = (error: ChronicleError): HttpResponse => jsonResponse(STATUS_OF_KIND[error.kind], publicBodyOf(error), headersOf(error));

/** Known errors keep their code and details; anything else is a generic 500 whose details stay in the log. */
export const errorResponse = (error: unknown): HttpResponse =>
  isChronicleError(error) ? fromChronicleError(error) : jsonResponse(500, errorBody('INTERNAL_ERROR', 'something went wrong on our side'));
