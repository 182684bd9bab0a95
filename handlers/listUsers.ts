import { listUsers } from '#application/userQueries';
import { consistencyTokenOf } from '#http/consistencyToken';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { listUsersQuery } from '#http/userSchemas';
import { staleHeader, userViewBody } from '#http/userViewBody';
import { getQueryDeps, httpStackDeps } from '#wiring';

/** GET /users?status=&cursor=&limit= — admins only; oldest registration first, `limit` 1–100 (default 20). */
export const handler = httpHandler(httpStackDeps, { route: 'GET /users', access: 'admin', schemas: { query: listUsersQuery } }, async (request) => {
  const { status, cursor, limit } = request.query;
  const consistentWith = consistencyTokenOf(request.consistencyTokens, request);
  const { page, stale } = await listUsers(await getQueryDeps(), { status, cursor, limit, consistentWith });
  return jsonResponse(200, { items: page.items.map(userViewBody), nextCursor: page.nextCursor }, staleHeader(stale));
});
