import { createClient } from 'redis';
import { connectRedis } from '#adapters/redis/connectRedis';
import { readModelKeys } from '#adapters/redis/readModelKeys';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { projectStoredEvent } from '#application/userProjection';

type RedisClient = ReturnType<typeof createClient>;

/**
 * Every key of one read-model version, by name without the version prefix, with its whole
 * content in a comparable form — for checking that two versions hold the same read model.
 */
export const dumpReadModel = async (client: RedisClient, version: number): Promise<Map<string, unknown>> => {
  const { prefix } = readModelKeys(version);
  const names: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) names.push(...batch);
  const types = await Promise.all(names.map((name) => client.type(name)));
  const values = await Promise.all(
    names.map(async (name, i): Promise<unknown> => {
      switch (types[i]) {
        case 'hash':
          return Object.fromEntries(Object.entries(await client.hGetAll(name)).sort(([a], [b]) => (a < b ? -1 : 1)));
        case 'set':
          return (await client.sMembers(name)).sort();
        case 'zset':
          return await client.zRangeWithScores(name, 0, -1);
        case 'string':
          return await client.get(name);
        default:
          return `unexpected type ${types[i]}`;
      }
    }),
  );
  return new Map(names.map((name, i) => [name.slice(prefix.length), values[i]]));
};

/** Deletes every key of one read-model version. */
export const deleteReadModel = async (client: RedisClient, version: number): Promise<void> => {
  const { prefix } = readModelKeys(version);
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (batch.length > 0) await client.unlink(batch);
};

/** A version no other test or run is using, within READ_MODEL_VERSION's range even plus one. */
export const uniqueReadModelVersion = (): number => 100_000 + Math.floor(Math.random() * 899_000);

/**
 * Builds `referenceVersion` from every user event of the SQLite log at `eventsFile` (one batch,
 * checkpoint `upTo`) and compares `liveVersion` with it: the sizes of both, and the first keys
 * whose content differs.
 */
export const compareWithCleanReplay = async (
  redisUrl: string,
  eventsFile: string,
  versions: { readonly live: number; readonly reference: number },
  upTo: bigint,
): Promise<{ readonly liveSize: number; readonly referenceSize: number; readonly differing: string[] }> => {
  const store = createSqliteEventStore({ path: eventsFile });
  const events = await store.readAll({ streamPrefixes: ['user-'] });
  await store.close();
  const replay = createRedisReadModels({ client: await connectRedis(redisUrl), version: versions.reference });
  await replay.applyBatch(
    events.map((event) => projectStoredEvent(event)),
    upTo,
  );
  await replay.close();
  const client = createClient({ url: redisUrl });
  await client.connect();
  try {
    const [live, reference] = await Promise.all([dumpReadModel(client, versions.live), dumpReadModel(client, versions.reference)]);
    const differing = [...reference.keys()].filter((key) => JSON.stringify(live.get(key)) !== JSON.stringify(reference.get(key)));
    return { liveSize: live.size, referenceSize: reference.size, differing: differing.slice(0, 5) };
  } finally {
    await client.quit();
  }
};
