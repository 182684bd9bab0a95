import { afterAll, beforeAll, describe } from 'vitest';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { startServiceStack, type ServiceStack } from '#test/support/serviceStack';
import { userApiScenarios } from './userApiScenarios.ts';

/**
 * The same flow with the service configured for EventStoreDB: the Lambdas and the projector
 * talk to it through the real @eventstore/db-client over gRPC — to a real server when
 * EVENTSTORE_CONNECTION_STRING is set (`npm run test:esdb`), else to the emulator in this
 * process (CI). Read models stay on the embedded SQLite default.
 */
describe('user API end to end, on EventStoreDB', () => {
  let emulator: EsdbEmulator | undefined;
  let stack: ServiceStack | undefined;

  beforeAll(async () => {
    const realServer = process.env['EVENTSTORE_CONNECTION_STRING']?.trim();
    if (!realServer) emulator = await startEsdbEmulator();
    const connectionString = realServer || (emulator?.connectionString as string);
    // A group of this run's own, so a real server's earlier runs do not share its checkpoint.
    stack = await startServiceStack({ env: { EVENTSTORE_CONNECTION_STRING: connectionString, PROJECTOR_GROUP: `chronicle-e2e-${Date.now()}` } });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await emulator?.stop();
  }, 60_000);

  userApiScenarios(() => {
    if (stack === undefined) throw new Error('the stack did not start');
    return stack.baseUrl;
  }, { eventStore: 'eventstoredb', readModels: 'sqlite' });
});
