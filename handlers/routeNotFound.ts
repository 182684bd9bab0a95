import { httpHandler } from '#http/httpHandler';
import { unroutedError } from '#http/routeTable';
import { httpStackDeps } from '#wiring';

/** The catch-all route (`httpApi: '*'`): 404 ROUTE_NOT_FOUND, or 405 METHOD_NOT_ALLOWED with `Allow`. */
export const handler = httpHandler(httpStackDeps, { route: '$default', access: 'public', schemas: {} }, async (request) => {
  throw unroutedError(request.method, request.rawPath);
});
