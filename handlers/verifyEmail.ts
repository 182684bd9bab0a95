import { verificationGuard } from '#application/authorization';
import { handleUserCommand } from '#application/handleUserCommand';
import { commandOptionsOf, commandResponse } from '#http/commandHttp';
import { httpHandler } from '#http/httpHandler';
import { userPath, verifyEmailBody } from '#http/userSchemas';
import { getCommandDeps, httpStackDeps } from '#wiring';

/**
 * POST /users/{id}/email/verification — body `{ email }`, which must be the current address.
 * An admin, the verifier scope, or the owner whose token proves that very mailbox.
 */
export const handler = httpHandler(
  httpStackDeps,
  { route: 'POST /users/{id}/email/verification', access: 'email-verification', body: 'required', schemas: { path: userPath, body: verifyEmailBody } },
  async (request) => {
    const command = { type: 'VerifyEmail', data: { userId: request.path.id, email: request.body.email }, metadata: { now: new Date() } } as const;
    const options = { ...commandOptionsOf(request), guard: verificationGuard(request.principal, request.body.email) };
    return commandResponse(request.consistencyTokens, await handleUserCommand(await getCommandDeps(), command, options));
  },
);
