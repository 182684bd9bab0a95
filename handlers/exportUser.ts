import { exportUser } from '#application/exportUser';
import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { userPath } from '#http/userSchemas';
import { getUserStreamDeps, httpStackDeps } from '#wiring';

/** GET /users/{id}/export — every piece of personal data held about the user, in one document. */
export const handler = httpHandler(httpStackDeps, { route: 'GET /users/{id}/export', access: 'owner-or-admin', schemas: { path: userPath } }, async (request) => {
  const document = await exportUser(await getUserStreamDeps(), request.path.id, new Date());
  return jsonResponse(200, document);
});
