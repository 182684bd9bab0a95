import { httpHandler } from '#http/httpHandler';
import { jsonResponse } from '#http/jsonResponse';
import { config, getEventStore, getReadModels, httpStackDeps } from '#wiring';

/** GET /health — both stores answer (else 503), with how far the projector has come. */
export const handler = httpHandler(httpStackDeps, { route: 'GET /health', schemas: {} }, async () => {
  const [eventStore, readModels] = await Promise.all([getEventStore(), getReadModels()]);
  const [head, checkpoint] = await Promise.all([eventStore.headPosition(), readModels.getCheckpoint()]);
  return jsonResponse(
    200,
    { status: 'ok', eventStore: config.eventStore.kind, readModels: config.readModels.kind, head, checkpoint },
    { 'cache-control': 'no-store' },
  );
});
