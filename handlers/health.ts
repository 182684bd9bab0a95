import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { config, getEventStore, getReadModels, httpStackDeps } from '#wiring';

/**
 * GET /health — public: `{ status }` when both stores answer (else 503). Store kinds, the log
 * head and the projector checkpoint only for an admin's token.
 */
export const handler = httpHandler(httpStackDeps, { route: 'GET /health', access: 'public', schemas: {} }, async (request) => {
  const [eventStore, readModels] = await Promise.all([getEventStore(), getReadModels()]);
  const [head, checkpoint] = await Promise.all([eventStore.headPosition(), readModels.getCheckpoint()]);
  const details = request.principal?.isAdmin === true ? { eventStore: config.eventStore.kind, readModels: config.readModels.kind, head, checkpoint } : {};
  return jsonResponse(200, { status: 'ok', ...details }, { 'cache-control': 'no-store' });
});
