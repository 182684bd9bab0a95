import { getUser } from '#application/userQueries';
import { consistencyTokenOf } from '#http/consistencyToken';
import { formatEtag } from '#http/etag';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { getUserQuery, userPath } from '#http/userSchemas';
import { staleHeader, userViewBody } from '#http/userViewBody';
import { getQueryDeps, httpStackDeps } from '#wiring';

/** GET /users/{id} — the owner or an admin; honours X-Consistency-Token or ?consistentWith= (read-your-writes, bounded). */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'GET /users/{id}', access: 'owner-or-admin', schemas: { path: userPath, query: getUserQuery } },
  async (request) => {
    const consistentWith = consistencyTokenOf(request.consistencyTokens, request);
    const { user, stale } = await getUser(await getQueryDeps(), request.path.id, { consistentWith });
    return jsonResponse(200, userViewBody(user), { etag: formatEtag(user.revision), ...staleHeader(stale) });
  },
);
