import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { httpStackDeps } from '#wiring';

/** Every route the API does not define (`httpApi: '*'`): 404 in the API's error shape, through the same stack. */
export const handler = httpHandler(httpStackDeps, { route: 'ANY *', schemas: {} }, async () =>
  jsonResponse(404, { error: { code: 'ROUTE_NOT_FOUND', message: 'No such route' } }),
);
