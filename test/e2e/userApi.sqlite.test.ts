import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceStack, type ServiceStack } from '#test/support/serviceStack';
import { filesHolding, userApiScenarios } from './userApiScenarios.ts';

describe('user API end to end, on the embedded default (SQLite)', () => {
  let stack: ServiceStack | undefined;
  beforeAll(async () => {
    stack = await startServiceStack();
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  userApiScenarios(() => {
    if (stack === undefined) throw new Error('the stack did not start');
    return stack;
  }, { eventStore: 'sqlite', readModels: 'sqlite' }, {
    // Every file under DATA_DIR: events, read models, keys, their WAL and SHM files, anything else.
    placesHolding: async (needle) => (stack === undefined ? ['no stack'] : filesHolding(stack.dataDir, needle)),
  });

  it('logs its requests, and no email address', () => {
    const output = stack?.output() ?? '';
    expect(output).toContain('"route":"POST /users"');
    expect(output).not.toMatch(/[^\s@"]+@example\.com/i);
  });
});
