import { randomUUID } from 'node:crypto';
import type { CommandOptions, CommandResult } from '#application/commandOptions';
import { userIdForIdempotencyKey } from '#application/eventIds';
import { actorOf, callerScopedKey, userIdOfPrincipal } from '#application/principal';
import { ValidationError } from '#domain/errors';
import type { Principal } from '#ports/tokenVerifier';
import type { ConsistencyTokens } from './consistencyToken.ts';
import { formatEtag, parseIfMatch } from './etag.ts';
import type { HttpResponse, RequestInfo } from './httpEvent.ts';
import { jsonResponse } from './jsonResponse.ts';
import type { RequestFingerprinter } from './requestFingerprint.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** What a command route's request offers for building the command's options. */
export interface CommandRequest {
  readonly route: string;
  readonly info: RequestInfo;
  readonly principal: Principal;
  readonly body: unknown;
  readonly path: unknown;
  readonly fingerprintRequest: RequestFingerprinter;
  header(name: string): string | undefined;
}

/** Idempotency-Key as given (visible ASCII, at most 200 characters), or undefined when absent. */
export const idempotencyKeyOf = (header: (name: string) => string | undefined): string | undefined => {
  const key = header('idempotency-key')?.trim();
  if (key === undefined || key === '') return undefined;
  if (!IDEMPOTENCY_KEY.test(key))
    throw new ValidationError('Idempotency-Key must be 1 to 200 visible ASCII characters', [{ path: 'Idempotency-Key', message: 'invalid key' }]);
  return key;
};

const targetOf = (path: unknown): string | null => {
  const id = (path as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : null;
};

/**
 * Request → command options. The Idempotency-Key is scoped to the caller (two callers' keys
 * never name the same command) and bound to the request by a fingerprint of route, target and
 * body; If-Match pins a revision; the verified principal is the actor.
 */
export const commandOptionsOf = (request: CommandRequest): CommandOptions => {
  const expectedRevision = parseIfMatch(request.header('if-match'));
  const key = idempotencyKeyOf((name) => request.header(name));
  return {
    commandId: key === undefined ? randomUUID() : callerScopedKey(request.principal, key),
    correlationId: request.info.correlationId,
    actor: actorOf(request.principal),
    requestFingerprint: request.fingerprintRequest({ route: request.route, target: targetOf(request.path), body: request.body }),
    ...(expectedRevision === undefined ? {} : { expectedRevision }),
  };
};

/**
 * The id of a user to register. A caller registers their own account: its id derives from
 * their identity, so one identity has one account. An admin registers on someone's behalf: a
 * new id, or one derived from the admin's (caller-scoped) Idempotency-Key, so a retry lands on
 * the same user.
 */
export const newUserIdOf = (request: Pick<CommandRequest, 'principal' | 'header'>): string => {
  if (!request.principal.isAdmin) return userIdOfPrincipal(request.principal);
  const key = idempotencyKeyOf((name) => request.header(name));
  return key === undefined ? randomUUID() : userIdForIdempotencyKey(callerScopedKey(request.principal, key));
};

/**
 * Result → response: `{id, revision, position}` with the revision as ETag and an opaque
 * consistency token. `location`: where the new resource reads back, carrying the token so that
 * following it at once includes the write.
 */
export const commandResponse = (
  tokens: ConsistencyTokens,
  result: CommandResult,
  options: { readonly statusCode?: number; readonly location?: (token: string) => string } = {},
): HttpResponse => {
  const token = tokens.issue(result.position);
  return jsonResponse(
    options.statusCode ?? 200,
    { id: result.id, revision: result.revision.toString(), position: result.position.toString() },
    { etag: formatEtag(result.revision), 'x-consistency-token': token, ...(options.location === undefined ? {} : { location: options.location(token) }) },
  );
};
