import { handleUserCommand } from '#application/handleUserCommand';
import { commandOptionsOf, commandResponse, newUserIdOf } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { registerUserBody } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '#wiring';

/** POST /users — 201 with Location. With an Idempotency-Key the user id derives from it, so a retry lands on the same user. */
export const handler = httpHandler(httpStackDeps, { route: 'POST /users', body: 'required', schemas: { body: registerUserBody } }, async (request) => {
  const options = commandOptionsOf(request);
  const userId = newUserIdOf(request);
  const result = await handleUserCommand(await getCommandDeps(), { type: 'RegisterUser', data: { userId, ...request.body }, metadata: { now: new Date() } }, options);
  return commandResponse(result, 201, { location: `/users/${userId}` });
});
