import { getUserHistory } from '#application/getUserHistory';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { userEventsQuery, userPath } from '#http/userSchemas';
import { getUserStreamDeps, httpStackDeps } from '#wiring';

/** GET /users/{id}/events — one page of the audit trail, oldest first, replayed from the event store. The owner or an admin. */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'GET /users/{id}/events', access: 'owner-or-admin', schemas: { path: userPath, query: userEventsQuery } },
  async (request) => {
    const page = await getUserHistory(await getUserStreamDeps(), request.path.id, request.query);
    return jsonResponse(200, page);
  },
);
