import { handleUserCommand } from '#application/handleUserCommand';
import { commandOptionsOf, commandResponse } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { suspendUserBody, userPath } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '#wiring';

/** POST /users/{id}/suspension — body `{ reason }`. */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'POST /users/{id}/suspension', body: 'required', schemas: { path: userPath, body: suspendUserBody } },
  async (request) => {
    const options = commandOptionsOf(request);
    const commands = await getCommandDeps();
    const command = { type: 'SuspendUser', data: { userId: request.path.id, reason: request.body.reason }, metadata: { now: new Date() } } as const;
    return commandResponse(await handleUserCommand(commands, command, options));
  },
);
