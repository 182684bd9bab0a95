import { getUser } from '#application/userQueries';
import { formatEtag, parseConsistencyToken } from '#http/etag';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { getUserQuery, userPath } from '#http/userSchemas';
import { staleHeader, userViewBody } from '#http/userViewBody';
import { getQueryDeps, httpStackDeps } from '../src/wiring.ts';

/** GET /users/{id} — honours X-Consistency-Token or ?consistentWith= (read-your-writes, bounded). */
export const handler = httpHandler(httpStackDeps, { route: 'GET /users/{id}', schemas: { path: userPath, query: getUserQuery } }, async (request) => {
  const consistentWith =
    parseConsistencyToken(request.header('x-consistency-token'), 'X-Consistency-Token') ?? parseConsistencyToken(request.query.consistentWith, 'consistentWith');
  const queries = await getQueryDeps();
  const { user, stale } = await getUser(queries, request.path.id, consistentWith === undefined ? {} : { consistentWith });
  return jsonResponse(200, userViewBody(user), { etag: formatEtag(user.revision), ...staleHeader(stale) });
});
