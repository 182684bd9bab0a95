import { randomInt } from 'node:crypto';
import path from 'node:path';
import { createMemoryReadModels } from '#adapters/memory/memoryReadModels';
import type { RedisClient } from '#adapters/redis/connectRedis';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { createSqliteReadModels } from '#adapters/sqlite/sqliteReadModels';
import type { ReadModels } from '#ports/readModels';
import { tempDir } from '#test/support/tempDir';

/** A fresh, empty read model of one adapter, and how to throw it away. */
export interface ReadModelTarget {
  readonly readModels: ReadModels;
  readonly cleanup: () => Promise<void>;
}

export const memoryTarget = async (): Promise<ReadModelTarget> => ({ readModels: createMemoryReadModels(), cleanup: async () => undefined });

export const sqliteTarget = async (): Promise<ReadModelTarget> => {
  const dir = tempDir('chronicle-prop-rm-');
  const readModels = createSqliteReadModels({ path: path.join(dir.path, 'read-models.sqlite') });
  return {
    readModels,
    cleanup: async () => {
      await readModels.close();
      dir.remove();
    },
  };
};

/** A version (key prefix) of its own per run, so runs and tests never mix on the shared server. */
export const redisTarget = (client: RedisClient) => async (): Promise<ReadModelTarget> => {
  const version = randomInt(1_000_000_000, 2 ** 47);
  return {
    readModels: createRedisReadModels({ client, version, ownsClient: false }),
    cleanup: async () => {
      for await (const keys of client.scanIterator({ MATCH: `rm:v${version}:*`, COUNT: 1000 })) if (keys.length > 0) await client.unlink(keys);
    },
  };
};
