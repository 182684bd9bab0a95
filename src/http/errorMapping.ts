import { isChronicleError, type ChronicleError, type ErrorKind } from '#domain/errors';
import type { HttpResponse } from './httpEvent.ts';
import { jsonResponse } from './jsonResponse.ts';
import { staleHeader } from './userViewBody.ts';

/** The one mapping from error kinds to HTTP statuses. */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  validation: 400,
  not_found: 404,
  gone: 410,
  rule_violated: 409,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unavailable: 503,
};

export const errorBody = (code: string, message: string, details?: Readonly<Record<string, unknown>>) => ({
  error: { code, message, ...(details === undefined ? {} : { details }) },
});

const headersOf = (error: ChronicleError): Record<string, string> => ({
  ...(error.kind === 'unavailable' ? { 'retry-after': '1' } : {}),
  // A read that gave up waiting for its consistency token says so, whatever it found (a 404 included).
  ...staleHeader(error.details?.['stale'] === true),
});

const fromChronicleError = (error: ChronicleError): HttpResponse =>
  jsonResponse(STATUS_OF_KIND[error.kind], errorBody(error.code, error.message, error.details), headersOf(error));

/** Known errors keep their code and details; anything else is a generic 500 whose details stay in the log. */
export const errorResponse = (error: unknown): HttpResponse =>
  isChronicleError(error) ? fromChronicleError(error) : jsonResponse(500, errorBody('INTERNAL_ERROR', 'something went wrong on our side'));
