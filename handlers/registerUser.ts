import { randomUUID } from 'node:crypto';
import { userIdForIdempotencyKey } from '#application/eventIds';
import { handleUserCommand } from '#application/handleUserCommand';
import { commandOptionsOf, commandResponse, idempotencyKeyOf } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { registerUserBody } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '../src/wiring.ts';

/** POST /users — 201 with Location. With an Idempotency-Key the user id derives from it, so a retry lands on the same user. */
export const handler = httpHandler(httpStackDeps, { route: 'POST /users', body: 'required', schemas: { body: registerUserBody } }, async (request) => {
  const options = commandOptionsOf(request);
  const idempotencyKey = idempotencyKeyOf(request.header);
  const userId = idempotencyKey === undefined ? randomUUID() : userIdForIdempotencyKey(idempotencyKey);
  const commands = await getCommandDeps();
  const result = await handleUserCommand(commands, { type: 'RegisterUser', data: { userId, ...request.body }, metadata: { now: new Date() } }, options);
  return commandResponse(result, 201, { location: `/users/${userId}` });
});
