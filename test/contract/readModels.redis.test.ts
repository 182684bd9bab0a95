import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { APPLY_BATCH_SCRIPT, encodeBatch } from '#adapters/redis/applyBatchScript';
import { packStrings } from '#adapters/redis/msgpackStrings';
import { connectRedis, type RedisClient } from '#adapters/redis/connectRedis';
import { readModelKeys } from '#adapters/redis/readModelKeys';
import { createRedisReadModelRegistry } from '#adapters/redis/redisReadModelRegistry';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { translateRedisError } from '#adapters/redis/redisErrors';
import { isUnavailableError } from '#domain/errors';
import { freePort } from '#test/support/ports';
import { requireRedis, sharedRedisUrl, startPrivateRedis } from '#test/support/redis';
import { dumpReadModel } from '#test/support/readModelDump';
import { describeReadModelRegistryContract } from './readModelRegistry.contract.ts';
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

// One connection for the whole file; each test has its own version (key prefix) on it.
let shared: Promise<RedisClient> | undefined;
afterAll(async () => {
  if (shared) await (await shared).close();
});

describeReadModelsContract(
  'redis',
  async () => {
    shared ??= connectRedis(sharedRedisUrl());
    const client = await shared;
    const version = uniqueVersion();
    return {
      readModels: createRedisReadModels({ client, version, ownsClient: false }),
      cleanup: () => deleteVersion(client, version),
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

describeReadModelRegistryContract('redis', async () => {
  shared ??= connectRedis(sharedRedisUrl());
  const client = await shared;
  // Its own registry namespace and versions: other runs on the shared server never see them.
  const namespace = `rm-test:${randomInt(1_000_000_000, 2 ** 47)}:`;
  const base = uniqueVersion();
  const versions = [base, base + 1, base + 2] as const;
  const open = () => createRedisReadModelRegistry({ client, namespace, ownsClient: false });
  return {
    registry: open(),
    versions,
    deletesInBatches: true,
    openAnother: open,
    cleanup: async () => {
      for (const version of versions) await deleteVersion(client, version);
      await client.del([`${namespace}versions`, `${namespace}active`]);
    },
  };
});

describe('redis read models, beyond the contract', () => {
  it('keeps no byte of an erased user’s email or name in any key or value of the version', async () => {
    const client = await connectRedis(sharedRedisUrl());
    const version = uniqueVersion();
    const readModels = createRedisReadModels({ client, version, ownsClient: false });
    try {
      const [gone, kept] = [randomUUID(), randomUUID()];
      const user = (id: string, tag: string) => ({ id, email: `${tag}-${id.slice(0, 8)}@example.com`, displayName: `${tag} ${id.slice(0, 8)}`, status: 'active' as const, emailVerified: false, registeredAt: '2024-05-01T10:00:00.000Z' });
      const erasedUser = user(gone, 'erased');
      await readModels.applyBatch(
        [
          { streamId: `user-${gone}`, revision: 0n, position: 1n, changes: [{ type: 'userCreated', user: erasedUser }] },
          { streamId: `user-${kept}`, revision: 0n, position: 2n, changes: [{ type: 'userCreated', user: user(kept, 'kept') }] },
          { streamId: `user-${gone}`, revision: 1n, position: 3n, changes: [{ type: 'userPatched', userId: gone, fields: { email: `moved-${erasedUser.email}` } }] },
        ],
        3n,
      );
      await readModels.applyBatch([{ streamId: `user-${gone}`, revision: 2n, position: 4n, changes: [{ type: 'userErased', userId: gone }] }], 4n);
      const dump = JSON.stringify([...(await dumpReadModel(client, version)).entries()]);
      expect(dump).toContain('kept-');
      for (const needle of [erasedUser.email, erasedUser.displayName]) expect(dump).not.toContain(needle);
    } finally {
      await deleteVersion(client, version);
      await client.close();
    }
  });

  it('fails to connect to a server that is not there with UnavailableError, promptly', async () => {
    const started = Date.now();
    await expect(connectRedis(`redis://127.0.0.1:${await freePort()}`, { connectTimeoutMs: 500 })).rejects.toSatisfy(isUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects a malformed batch inside the script as a non-transient error, writing nothing', async () => {
    const client = await connectRedis(sharedRedisUrl());
    const version = uniqueVersion();
    const { prefix } = readModelKeys(version);
    try {
      const valid = encodeBatch(prefix, [], 5n);
      // A change kind the script does not know, after a well-formed event: nothing may be written.
      const malformed = [prefix, '5', '2', 'user-a', '0', '', '1', '0', 'user-b', '0', '', '2', '1', 'x', 'b'];
      const error = await client.sendCommand(['EVAL', APPLY_BATCH_SCRIPT, '0', packStrings(malformed)]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(isUnavailableError(translateRedisError(error, 'applyBatch'))).toBe(false);
      expect(await client.exists([`${prefix}checkpoint`, `${prefix}applied`])).toBe(0);
      const notPacked = await client.sendCommand(['EVAL', APPLY_BATCH_SCRIPT, '0', '42']).catch((e: unknown) => e);
      expect(String(notPacked)).toMatch(/malformed argument/);
      expect(await client.sendCommand(['EVAL', APPLY_BATCH_SCRIPT, '0', packStrings(valid)])).toBe('');
      expect(await client.get(`${prefix}checkpoint`)).toBe('5');
    } finally {
      await deleteVersion(client, version);
      await client.close();
    }
  });
});
