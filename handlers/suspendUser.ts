import { handleUserCommand } from '#application/handleUserCommand';
import { commandOptionsOf, commandResponse } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { suspendUserBody, userPath } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '#wiring';

/** POST /users/{id}/suspension — body `{ reason }`. Admins only. */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'POST /users/{id}/suspension', access: 'admin', body: 'required', schemas: { path: userPath, body: suspendUserBody } },
  async (request) => {
    const command = { type: 'SuspendUser', data: { userId: request.path.id, reason: request.body.reason }, metadata: { now: new Date() } } as const;
    return commandResponse(request.consistencyTokens, await handleUserCommand(await getCommandDeps(), command, commandOptionsOf(request)));
  },
);
