import { randomInt } from 'node:crypto';
import { beforeEach } from 'vitest';
import { connectRedis, type RedisClient } from '#adapters/redis/connectRedis';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { requireRedis, sharedRedisUrl, startPrivateRedis } from '#test/support/redis';
import { describeReadModelsContract } from './readModels.contract.ts';

// Vitest 4 gives beforeAll no skip(); the test context's skip does the same job per test.
beforeEach(async ({ skip }) => {
  await requireRedis(skip);
});

/** A version no other run uses, so tests share the server without ever touching each other's keys. */
const uniqueVersion = (): number => randomInt(1_000_000_000, 2 ** 47);

const deleteVersion = async (client: RedisClient, version: number): Promise<void> => {
  for await (const keys of client.scanIterator({ MATCH: `rm:v${version}:*`, COUNT: 1000 })) {
    if (keys.length > 0) await client.unlink(keys);
  }
};

const waitUntilReady = async (client: RedisClient, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!client.isReady) {
    if (Date.now() > deadline) throw new Error(`redis client not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describeReadModelsContract(
  'redis',
  async () => {
    const client = await connectRedis(sharedRedisUrl());
    const version = uniqueVersion();
    return {
      readModels: createRedisReadModels({ client, version, ownsClient: false }),
      cleanup: async () => {
        await deleteVersion(client, version);
        await client.close();
      },
    };
  },
  async () => {
    const server = await startPrivateRedis();
    const client = await connectRedis(server.url, { connectTimeoutMs: 500 });
    return {
      readModels: createRedisReadModels({ client, version: 1 }),
      // The private server keeps nothing across a restart (no persistence).
      keepsDataAcrossOutage: false,
      readsFailDuringOutage: true,
      beginOutage: () => server.stop(),
      endOutage: async () => {
        await server.start();
        await waitUntilReady(client);
      },
      cleanup: async () => {
        if (client.isOpen) client.destroy();
        await server.stop();
      },
    };
  },
);
