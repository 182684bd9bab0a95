import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { deleteReadModel, uniqueReadModelVersion } from '#test/support/readModelDump';
import { isRedisAnswering, requireRedis, sharedRedisUrl } from '#test/support/redis';
import { startServiceStack, type ServiceStack } from '#test/support/serviceStack';
import { userApiScenarios } from './userApiScenarios.ts';

/**
 * The same flow on exactly the production configuration: the Lambdas under serverless offline
 * and the projector, both on EventStoreDB (a real server when EVENTSTORE_CONNECTION_STRING is
 * set, else the emulator in this process) and on Redis (the shared one, under a read-model
 * version of this run's own).
 */
describe('user API end to end, on EventStoreDB and Redis (the production configuration)', () => {
  const version = uniqueReadModelVersion();
  let emulator: EsdbEmulator | undefined;
  let stack: ServiceStack | undefined;

  beforeAll(async () => {
    // Without Redis there is nothing to boot; beforeEach skips (or, in CI, fails) every test.
    if (!(await isRedisAnswering())) return;
    const realServer = process.env['EVENTSTORE_CONNECTION_STRING']?.trim();
    if (!realServer) emulator = await startEsdbEmulator();
    stack = await startServiceStack({
      env: {
        EVENTSTORE_CONNECTION_STRING: realServer || (emulator?.connectionString as string),
        REDIS_URL: sharedRedisUrl(),
        READ_MODEL_VERSION: String(version),
        // A group of this run's own, so a real server's earlier runs do not share its checkpoint.
        PROJECTOR_GROUP: `chronicle-e2e-${randomUUID()}`,
        // Production stores: the local issuer runs only when asked for.
        CHRONICLE_DEV_ISSUER: 'true',
      },
    });
  }, 180_000);

  beforeEach(({ skip }) => requireRedis(skip));

  afterAll(async () => {
    await stack?.stop();
    await emulator?.stop();
    const redis = createClient({ url: sharedRedisUrl() });
    redis.on('error', () => undefined);
    if (!(await redis.connect().then(() => true, () => false))) return;
    await deleteReadModel(redis, version);
    await redis.quit();
  }, 60_000);

  userApiScenarios(() => {
    if (stack === undefined) throw new Error('the stack did not start');
    return stack;
  }, { eventStore: 'eventstoredb', readModels: 'redis' });
});
