import { listUsers } from '#application/userQueries';
import { parseConsistencyToken } from '#http/etag';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { listUsersQuery } from '#http/userSchemas';
import { staleHeader, userViewBody } from '#http/userViewBody';
import { getQueryDeps, httpStackDeps } from '../src/wiring.ts';

/** GET /users?status=&cursor=&limit= — oldest registration first, `limit` 1–100 (default 20). */
export const handler = httpHandler(httpStackDeps, { route: 'GET /users', schemas: { query: listUsersQuery } }, async (request) => {
  const { status, cursor, limit } = request.query;
  const consistentWith =
    parseConsistencyToken(request.header('x-consistency-token'), 'X-Consistency-Token') ?? parseConsistencyToken(request.query.consistentWith, 'consistentWith');
  const queries = await getQueryDeps();
  const { page, stale } = await listUsers(queries, {
    limit,
    ...(status === undefined ? {} : { status }),
    ...(cursor === undefined ? {} : { cursor }),
    ...(consistentWith === undefined ? {} : { consistentWith }),
  });
  return jsonResponse(200, { items: page.items.map(userViewBody), nextCursor: page.nextCursor }, staleHeader(stale));
});
