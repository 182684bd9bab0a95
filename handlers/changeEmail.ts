import { handleUserCommand } from '#application/handleUserCommand';
import { commandOptionsOf, commandResponse } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { changeEmailBody, userPath } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '#wiring';

/** POST /users/{id}/email — body `{ email }`, the new address. The owner or an admin. */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'POST /users/{id}/email', access: 'owner-or-admin', body: 'required', schemas: { path: userPath, body: changeEmailBody } },
  async (request) => {
    const command = { type: 'ChangeEmail', data: { userId: request.path.id, email: request.body.email }, metadata: { now: new Date() } } as const;
    return commandResponse(request.consistencyTokens, await handleUserCommand(await getCommandDeps(), command, commandOptionsOf(request)));
  },
);
