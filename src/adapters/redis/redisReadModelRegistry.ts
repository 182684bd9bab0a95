import { activeVersionChanged, assertVersion, decodeVersionRecord, encodeVersionRecord, newVersionRecord, versionActive, versionNotFound } from '#adapters/shared/versionRegistry';
import type { ReadModelRegistry, ReadModels, ReadModelVersionRecord } from '#ports/readModels';
import { closeRedis, type RedisClient } from './connectRedis.ts';
import { registryKeys, versionKeyPattern } from './readModelKeys.ts';
import { createRedisReadModels } from './redisReadModels.ts';
import { redisSender } from './redisErrors.ts';

/**
 * Activation in one script: check the expected active version, retire the previous one, mark
 * the new one live and point `rm:active` at it, with nothing in between.
 * ARGV: versions key, active key, version, expected ('*' = any, '' = none), now.
 */
const ACTIVATE_SCRIPT = `
local versionsKey, activeKey, version, expected, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local stored = redis.call('HGET', versionsKey, version)
if not stored then return 'N' end
local current = redis.call('GET', activeKey) or ''
if expected ~= '*' and expected ~= current then return 'C' .. current end
if current ~= '' and current ~= version then
  local before = redis.call('HGET', versionsKey, current)
  if before then
    local record = cjson.decode(before)
    record.state, record.updatedAt = 'retired', now
    redis.call('HSET', versionsKey, current, cjson.encode(record))
  end
end
local record = cjson.decode(stored)
record.state, record.updatedAt = 'live', now
redis.call('HSET', versionsKey, version, cjson.encode(record))
redis.call('SET', activeKey, version)
return 'A' .. current
`;

/** ARGV: versions key, version, state, now. */
const SET_STATE_SCRIPT = `
local stored = redis.call('HGET', ARGV[1], ARGV[2])
if not stored then return 0 end
local record = cjson.decode(stored)
record.state, record.updatedAt = ARGV[3], ARGV[4]
redis.call('HSET', ARGV[1], ARGV[2], cjson.encode(record))
return 1
`;

export interface RedisReadModelRegistryOptions {
  readonly client: RedisClient;
  /** Whether close() closes the client too (default true). */
  readonly ownsClient?: boolean;
  /** Registry key namespace (default `rm:`); tests sharing one server use their own. */
  readonly namespace?: string;
  /** Replicas that must confirm each batch written to any version (WAIT), and the bound on that wait. */
  readonly waitReplicas?: number | undefined;
  readonly waitTimeoutMs?: number | undefined;
}

export const createRedisReadModelRegistry = (options: RedisReadModelRegistryOptions): ReadModelRegistry => {
  const { client } = options;
  const opened = new Map<number, ReadModels>();
  const keys = registryKeys(options.namespace);

  const send = redisSender(client);
  const getVersion = async (version: number): Promise<ReadModelVersionRecord | null> => {
    const text = await send<string | null>('getVersion', ['HGET', keys.versions, String(version)]);
    return text === null ? null : decodeVersionRecord(version, text);
  };
  const getActiveVersion = async (): Promise<number | null> => {
    const text = await send<string | null>('getActiveVersion', ['GET', keys.active]);
    return text === null ? null : Number(text);
  };

  return {
    async listVersions() {
      const all = await send<string[]>('listVersions', ['HGETALL', keys.versions]);
      const records: ReadModelVersionRecord[] = [];
      for (let i = 0; i + 1 < all.length; i += 2) records.push(decodeVersionRecord(Number(all[i]), all[i + 1] ?? ''));
      return records.sort((a, b) => a.version - b.version);
    },
    getVersion,
    getActiveVersion,
    async registerVersion(version, projection) {
      assertVersion(version);
      const record = newVersionRecord(version, projection, new Date());
      const created = (await send<number>('registerVersion', ['HSETNX', keys.versions, String(version), encodeVersionRecord(record)])) === 1;
      if (created) return { record, created };
      const stored = await getVersion(version);
      if (stored === null) throw versionNotFound(version);
      return { record: stored, created };
    },
    async setVersionState(version, state) {
      const found = await send<number>('setVersionState', ['EVAL', SET_STATE_SCRIPT, '0', keys.versions, String(version), state, new Date().toISOString()]);
      if (found !== 1) throw versionNotFound(version);
    },
    async activateVersion(version, activateOptions = {}) {
      assertVersion(version);
      const expected = activateOptions.expectedActive === undefined ? '*' : activateOptions.expectedActive === null ? '' : String(activateOptions.expectedActive);
      const answer = await send<string>('activateVersion', [
        'EVAL',
        ACTIVATE_SCRIPT,
        '0',
        keys.versions,
        keys.active,
        String(version),
        expected,
        new Date().toISOString(),
      ]);
      const before = answer.slice(1) === '' ? null : Number(answer.slice(1));
      if (answer === 'N') throw versionNotFound(version);
      if (answer.startsWith('C')) throw activeVersionChanged(activateOptions.expectedActive ?? null, before);
      return { previous: before };
    },
    async dropVersion(version, dropOptions = {}) {
      assertVersion(version);
      if ((await getActiveVersion()) === version) throw versionActive(version);
      const batchSize = dropOptions.batchSize ?? 1_000;
      let deleted = 0;
      // SCAN + UNLINK in bounded batches: Redis is never blocked by one huge command, and a
      // rerun after a crash finds and deletes what is left.
      let cursor = '0';
      do {
        const [next, keys] = await send<[string, string[]]>('dropVersion', ['SCAN', cursor, 'MATCH', versionKeyPattern(version), 'COUNT', String(batchSize)]);
        cursor = next;
        if (keys.length > 0) deleted += await send<number>('dropVersion', ['UNLINK', ...keys]);
        dropOptions.onProgress?.(deleted);
      } while (cursor !== '0');
      await send<number>('dropVersion', ['HDEL', keys.versions, String(version)]);
      return deleted;
    },
    readModels(version) {
      assertVersion(version);
      let readModels = opened.get(version);
      if (readModels === undefined) {
        readModels = createRedisReadModels({ client, version, ownsClient: false, waitReplicas: options.waitReplicas, waitTimeoutMs: options.waitTimeoutMs });
        opened.set(version, readModels);
      }
      return readModels;
    },
    async close() {
      if (options.ownsClient ?? true) await closeRedis(client);
    },
  };
};
