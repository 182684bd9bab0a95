import { getUserHistory } from '#application/getUserHistory';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { userPath } from '#http/userSchemas';
import { getUserStreamDeps, httpStackDeps } from '#wiring';

/** GET /users/{id}/events — the audit trail, oldest first, replayed from the event store. The owner or an admin. */
export const handler = httpHandler(httpStackDeps, { route: 'GET /users/{id}/events', access: 'owner-or-admin', schemas: { path: userPath } }, async (request) => {
  const items = await getUserHistory(await getUserStreamDeps(), request.path.id);
  return jsonResponse(200, { items });
});
