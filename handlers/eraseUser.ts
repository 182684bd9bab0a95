import { eraseUser } from '#application/eraseUser';
import { commandOptionsOf, commandResponse } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { userPath } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '#wiring';

/** DELETE /users/{id} — erasure: UserErased, the email released, the data key destroyed. Idempotent. */
export const handler = httpHandler(httpStackDeps, { route: 'DELETE /users/{id}', access: 'owner-or-admin', schemas: { path: userPath } }, async (request) => {
  const options = commandOptionsOf(request);
  const command = { type: 'EraseUser', data: { userId: request.path.id }, metadata: { now: new Date() } } as const;
  return commandResponse(request.consistencyTokens, await eraseUser(await getCommandDeps(), command, options));
});
