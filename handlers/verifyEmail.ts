import { handleUserCommand } from '#application/handleUserCommand';
import { commandOptionsOf, commandResponse } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { userPath, verifyEmailBody } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '#wiring';

/** POST /users/{id}/email/verification — body `{ email }`, which must be the current address. */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'POST /users/{id}/email/verification', body: 'required', schemas: { path: userPath, body: verifyEmailBody } },
  async (request) => {
    const options = commandOptionsOf(request);
    const commands = await getCommandDeps();
    const command = { type: 'VerifyEmail', data: { userId: request.path.id, email: request.body.email }, metadata: { now: new Date() } } as const;
    return commandResponse(await handleUserCommand(commands, command, options));
  },
);
