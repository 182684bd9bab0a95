import { randomInt } from 'node:crypto';
import path from 'node:path';
import { createMemoryReadModels } from '#adapters/memory/memoryReadModels';
import type fc from 'fast-check';
import { afterAll, beforeEach, describe, it } from 'vitest';
import { connectRedis, type RedisClient } from '#adapters/redis/connectRedis';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { createSqliteReadModels } from '#adapters/sqlite/sqliteReadModels';
import type { ReadModels } from '#ports/readModels';
import { requireRedis, sharedRedisUrl } from '#test/support/redis';
import { tempDir } from '#test/support/tempDir';
import { checkAsyncProperty } from './propertyRun.ts';

/** A fresh, empty read model of one adapter, and how to throw it away. */
export interface ReadModelTarget {
  readonly readModels: ReadModels;
  readonly cleanup: () => Promise<void>;
}

const memoryTarget = async (): Promise<ReadModelTarget> => ({ readModels: createMemoryReadModels(), cleanup: async () => undefined });

const sqliteTarget = async (): Promise<ReadModelTarget> => {
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
const redisTarget = (client: RedisClient) => async (): Promise<ReadModelTarget> => {
  const version = randomInt(1_000_000_000, 2 ** 47);
  return {
    readModels: createRedisReadModels({ client, version, ownsClient: false }),
    cleanup: async () => {
      for await (const keys of client.scanIterator({ MATCH: `rm:v${version}:*`, COUNT: 1000 })) if (keys.length > 0) await client.unlink(keys);
    },
  };
};

/**
 * One `describe` per adapter (memory, SQLite, the shared Redis), each running the property built
 * from a target factory. Redis fails under CI when it is missing and is skipped otherwise.
 */
export const describeOnEveryReadModel = <T>(
  name: string,
  property: (target: () => Promise<ReadModelTarget>) => fc.IAsyncProperty<T>,
  options: { readonly file: string; readonly runs: { readonly memory: number; readonly sqlite: number; readonly redis: number } },
): void => {
  const run = (target: () => Promise<ReadModelTarget>, numRuns: number) => checkAsyncProperty(property(target), { file: options.file, name, numRuns });

  describe('on the memory read models', () => {
    it(name, () => run(memoryTarget, options.runs.memory), 120_000);
  });

  describe('on the SQLite read models', () => {
    it(name, () => run(sqliteTarget, options.runs.sqlite), 120_000);
  });

  describe('on the Redis read models', () => {
    beforeEach(async ({ skip }) => {
      await requireRedis(skip);
    });
    let shared: Promise<RedisClient> | undefined;
    afterAll(async () => {
      if (shared) await (await shared).close();
    });
    it(name, async () => {
      shared ??= connectRedis(sharedRedisUrl());
      await run(redisTarget(await shared), options.runs.redis);
    }, 120_000);
  });
};
