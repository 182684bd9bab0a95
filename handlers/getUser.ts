import { getUserAsOf } from '#application/getUserAsOf';
import { getUser } from '#application/userQueries';
import { consistencyTokenOf } from '#http/consistencyToken';
import { formatEtag } from '#http/etag';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { getUserQuery, userPath } from '#http/userSchemas';
import { staleHeader, userViewBody } from '#http/userViewBody';
import { getQueryDeps, getUserStreamDeps, httpStackDeps } from '#wiring';

/**
 * GET /users/{id} — the owner or an admin; honours X-Consistency-Token or ?consistentWith= (read-your-writes, bounded).
 * With ?asOf= or ?atRevision= it answers the user as it was then, folded from the event store.
 */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'GET /users/{id}', access: 'owner-or-admin', schemas: { path: userPath, query: getUserQuery } },
  async (request) => {
    const { asOf, atRevision } = request.query;
    if (asOf !== undefined || atRevision !== undefined) {
      const point = asOf === undefined ? { atRevision: atRevision ?? 0n } : { asOf };
      const past = await getUserAsOf(await getUserStreamDeps(), request.path.id, point);
      return jsonResponse(200, { ...userViewBody(past.user), asOf: past.asOf.toISOString() }, { etag: formatEtag(past.user.revision) });
    }
    const consistentWith = consistencyTokenOf(request.consistencyTokens, request);
    const { user, stale } = await getUser(await getQueryDeps(), request.path.id, { consistentWith });
    return jsonResponse(200, userViewBody(user), { etag: formatEtag(user.revision), ...staleHeader(stale) });
  },
);
