import { randomUUID } from 'node:crypto';
import type { CommandOptions, CommandResult } from '#application/commandOptions';
import { userIdForIdempotencyKey } from '#application/eventIds';
import { ValidationError } from '#domain/errors';
import { formatEtag, parseIfMatch } from './etag.ts';
import type { HttpResponse, RequestInfo } from './httpEvent.ts';
import { jsonResponse } from './jsonResponse.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** Idempotency-Key as given (visible ASCII, at most 200 characters), or undefined when absent. */
export const idempotencyKeyOf = (header: (name: string) => string | undefined): string | undefined => {
  const key = header('idempotency-key')?.trim();
  if (key === undefined || key === '') return undefined;
  if (!IDEMPOTENCY_KEY.test(key))
    throw new ValidationError('Idempotency-Key must be 1 to 200 visible ASCII characters', [{ path: 'Idempotency-Key', message: 'invalid key' }]);
  return key;
};

/** Request → command options: the Idempotency-Key becomes the command id; If-Match pins a revision. */
export const commandOptionsOf = (request: { readonly info: RequestInfo; header(name: string): string | undefined }): CommandOptions => {
  const expectedRevision = parseIfMatch(request.header('if-match'));
  return {
    commandId: idempotencyKeyOf(request.header) ?? randomUUID(),
    correlationId: request.info.correlationId,
    ...(request.info.actor === undefined ? {} : { actor: request.info.actor }),
    ...(expectedRevision === undefined ? {} : { expectedRevision }),
  };
};

/** The id of a user to register: derived from the Idempotency-Key when given, so that a retry lands on the same user. */
export const newUserIdOf = (request: { header(name: string): string | undefined }): string => {
  const key = idempotencyKeyOf(request.header);
  return key === undefined ? randomUUID() : userIdForIdempotencyKey(key);
};

/** Result → response: `{id, revision, position}` with the revision as ETag and the position as consistency token. */
export const commandResponse = (result: CommandResult, statusCode = 200, headers: Record<string, string> = {}): HttpResponse =>
  jsonResponse(
    statusCode,
    { id: result.id, revision: result.revision.toString(), position: result.position.toString() },
    { etag: formatEtag(result.revision), 'x-consistency-token': result.position.toString(), ...headers },
  );
