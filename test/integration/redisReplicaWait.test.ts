import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisClient } from '#adapters/redis/connectRedis';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { isUnavailableError } from '#domain/errors';
import type { ProjectedEvent } from '#ports/readModels';
import { startPrivateRedis, type PrivateRedis } from '#test/support/redis';
import { tempDir } from '#test/support/tempDir';

const registration = (userId: string, position: bigint): ProjectedEvent => ({
  streamId: `user-${userId}`,
  revision: 0n,
  position,
  changes: [
    {
      type: 'userCreated',
      user: { id: userId, email: `${userId}@example.com`, displayName: 'Ada', status: 'active', emailVerified: false, registeredAt: '2026-01-01T00:00:00.000Z' },
    },
  ],
});

describe('read-model writes that wait for a replica (WAIT)', () => {
  let primary: PrivateRedis;
  let replica: PrivateRedis;
  let client: RedisClient;
  const dir = tempDir('chronicle-redis-wait-');

  beforeAll(async () => {
    // A replica writes the RDB it receives into its working directory: run both in a temp dir.
    [primary, replica] = await Promise.all([startPrivateRedis({ dir: dir.path }), startPrivateRedis({ dir: dir.path })]);
    client = await connectRedis(primary.url, { onError: () => undefined });
  });
  afterAll(async () => {
    await client?.close();
    await Promise.all([primary?.stop(), replica?.stop()]);
    dir.remove();
  });

  it('is unavailable (retried, never acknowledged) while no replica confirms the batch', async () => {
    const readModels = createRedisReadModels({ client, version: 1, ownsClient: false, waitReplicas: 1, waitTimeoutMs: 100 });
    const failure = await readModels.applyBatch([registration('a0a0a0a0-0000-4000-8000-000000000001', 1n)], 1n).catch((error: unknown) => error);
    expect(isUnavailableError(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/0 of 1 replicas confirmed/);
  });

  it('answers once a replica holds the batch', async () => {
    const replicaClient = await connectRedis(replica.url, { onError: () => undefined });
    await replicaClient.sendCommand(['REPLICAOF', '127.0.0.1', String(primary.port)]);
    const readModels = createRedisReadModels({ client, version: 1, ownsClient: false, waitReplicas: 1, waitTimeoutMs: 5000 });
    const deadline = Date.now() + 10_000;
    let outcomes: unknown = null;
    while (outcomes === null) {
      outcomes = await readModels.applyBatch([registration('a0a0a0a0-0000-4000-8000-000000000002', 2n)], 2n).catch((error: unknown) => {
        if (!isUnavailableError(error) || Date.now() > deadline) throw error;
        return null; // the replica is still syncing
      });
    }
    // An attempt whose WAIT timed out during the sync wrote already: the retry finds it applied.
    expect([['applied'], ['duplicate']]).toContainEqual(outcomes);
    expect(await replicaClient.sendCommand(['GET', 'rm:v1:checkpoint'])).toBe('2');
    await replicaClient.close();
  });
});
