import { handleUserCommand } from '#application/handleUserCommand';
import { commandOptionsOf, commandResponse } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { reactivateUserBody, userPath } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '#wiring';

/** POST /users/{id}/reactivation — no body, or `{}`. Admins only. */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'POST /users/{id}/reactivation', access: 'admin', body: 'optional', schemas: { path: userPath, body: reactivateUserBody } },
  async (request) => {
    const command = { type: 'ReactivateUser', data: { userId: request.path.id }, metadata: { now: new Date() } } as const;
    return commandResponse(request.consistencyTokens, await handleUserCommand(await getCommandDeps(), command, commandOptionsOf(request)));
  },
);
