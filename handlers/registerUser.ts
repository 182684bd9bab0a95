import { handleUserCommand } from '#application/handleUserCommand';
import { commandOptionsOf, commandResponse, newUserIdOf } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { registerUserBody } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '#wiring';

/**
 * POST /users — 201 with a Location that reads the new user back at once. A caller registers
 * their own account (its id derives from their identity); an admin may register others.
 */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'POST /users', access: 'self-or-admin-registration', body: 'required', schemas: { body: registerUserBody } },
  async (request) => {
    const userId = newUserIdOf(request);
    const command = { type: 'RegisterUser', data: { userId, ...request.body }, metadata: { now: new Date() } } as const;
    const result = await handleUserCommand(await getCommandDeps(), command, commandOptionsOf(request));
    return commandResponse(request.consistencyTokens, result, { statusCode: 201, location: (token) => `/users/${userId}?consistentWith=${token}` });
  },
);
