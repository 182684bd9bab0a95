import { ErrorReply } from 'redis';
import { UnavailableError } from '#domain/errors';
import type { UserStatus } from '#domain/userState';
import type { ApplyOutcome, HeldStream, ListUsersQuery, ProjectedEvent, ReadModels, UserPage, UserView } from '#ports/readModels';
import { APPLY_BATCH_SCRIPT, APPLY_BATCH_SHA, decodeOutcomes, encodeBatch } from './applyBatchScript.ts';
import { packStrings } from './msgpackStrings.ts';
import { closeRedis, type RedisClient } from './connectRedis.ts';
import { assertLimit, decodeCursor, encodeCursor } from '#adapters/shared/userPaging';
import { readModelKeys } from './readModelKeys.ts';
import { redisSender, translateRedisError } from './redisErrors.ts';

export interface RedisReadModelsOptions {
  readonly client: RedisClient;
  /** Read models live under `rm:v<version>:`; a rebuild writes the next version beside the live one. */
  readonly version: number;
  /** Whether close() closes the client too (default true); false when the client is shared. */
  readonly ownsClient?: boolean;
  /**
   * Replicas that must hold a batch before applyBatch answers (`WAIT`), so that a failover cannot
   * lose a write whose events were already acknowledged; 0 (default) does not wait. Fewer
   * confirmations within waitTimeoutMs make the write an UnavailableError: the projector retries
   * it (idempotent) and acknowledges nothing meanwhile.
   */
  readonly waitReplicas?: number | undefined;
  readonly waitTimeoutMs?: number | undefined;
}

const USER_FIELDS = ['id', 'email', 'displayName', 'status', 'emailVerified', 'registeredAt', 'revision', 'position'] as const;

type Reply = string | null;

const toView = (values: readonly Reply[]): UserView | null => {
  const [id, email, displayName, status, emailVerified, registeredAt, revision, position] = values;
  if (!id || email == null || displayName == null || !status || registeredAt == null || !revision || !position) return null;
  return {
    id,
    email,
    displayName,
    status: status as UserStatus,
    emailVerified: emailVerified === '1',
    registeredAt,
    revision: BigInt(revision),
    position: BigInt(position),
  };
};

/** A Record so that a new status breaks the build here: listing every user must read its index too. */
const STATUS_INDEXED: Record<UserStatus, true> = { active: true, suspended: true };
const USER_STATUSES = Object.keys(STATUS_INDEXED) as UserStatus[];

/** Redis orders sorted-set members by their bytes; so must a merge of two of them. */
const compareBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const mergeSorted = (lists: readonly string[][]): string[] => lists.flat().sort(compareBytes);

const heldOf = (streamId: string, value: string): HeldStream => {
  const parsed = JSON.parse(value) as { revision?: string; reason?: string; heldAt?: string };
  return { streamId, revision: BigInt(parsed.revision ?? '0'), reason: parsed.reason ?? '', heldAt: parsed.heldAt ?? '' };
};

const isNoScript = (error: unknown): boolean => error instanceof ErrorReply && error.message.startsWith('NOSCRIPT');

/** ReadModels on Redis: one Lua script call per batch, one or two round trips per query. */
export const createRedisReadModels = (options: RedisReadModelsOptions): ReadModels => {
  const { client } = options;
  const keys = readModelKeys(options.version);

  const send = redisSender(client);

  const evalApplyBatch = async (argv: readonly string[]): Promise<unknown> => {
    const packed = packStrings(argv);
    try {
      return await client.sendCommand(['EVALSHA', APPLY_BATCH_SHA, '0', packed]);
    } catch (error) {
      // The script cache is empty after a restart or a SCRIPT FLUSH: load it and go again.
      if (!isNoScript(error)) throw error;
      await client.sendCommand(['SCRIPT', 'LOAD', APPLY_BATCH_SCRIPT]);
      return await client.sendCommand(['EVALSHA', APPLY_BATCH_SHA, '0', packed]);
    }
  };

  const waitReplicas = options.waitReplicas ?? 0;
  const waitForReplicas = async (): Promise<void> => {
    const confirmed = await send<number>('applyBatch', ['WAIT', String(waitReplicas), String(options.waitTimeoutMs ?? 1000)]);
    if (confirmed < waitReplicas)
      throw new UnavailableError(`redis: ${confirmed} of ${waitReplicas} replicas confirmed the batch within ${options.waitTimeoutMs ?? 1000} ms`, {
        operation: 'applyBatch',
        confirmed,
        waitReplicas,
      });
  };

  const getUsers = (userIds: readonly string[]): Promise<Array<UserView | null>> =>
    // Issued in one tick, these go out as one pipeline.
    Promise.all(userIds.map(async (id) => toView(await send<Reply[]>('getUser', ['HMGET', keys.user(id), ...USER_FIELDS]))));

  return {
    async applyBatch(events: readonly ProjectedEvent[], checkpoint: bigint | null): Promise<ApplyOutcome[]> {
      const argv = encodeBatch(keys.prefix, events, checkpoint);
      let outcomes: ApplyOutcome[];
      try {
        outcomes = decodeOutcomes(await evalApplyBatch(argv), events.length);
      } catch (error) {
        throw translateRedisError(error, 'applyBatch');
      }
      if (waitReplicas > 0) await waitForReplicas();
      return outcomes;
    },

    async getUser(userId: string): Promise<UserView | null> {
      const [user] = await getUsers([userId]);
      return user ?? null;
    },

    async listUsers(query: ListUsersQuery): Promise<UserPage> {
      assertLimit(query.limit);
      const from = query.cursor ? `(${decodeCursor(query.cursor)}` : '-';
      // One member more than asked tells whether another page follows. Without a status, the
      // per-status indexes are read in one pipeline and merged (each is already in order).
      const range = (status: UserStatus): Promise<string[]> =>
        send<string[]>('listUsers', ['ZRANGE', keys.statusRegistrationOrder(status), from, '+', 'BYLEX', 'LIMIT', '0', String(query.limit + 1)]);
      const members =
        query.status === undefined ? mergeSorted(await Promise.all(USER_STATUSES.map(range))).slice(0, query.limit + 1) : await range(query.status);
      const page = members.slice(0, query.limit);
      const users = await getUsers(page.map((member) => member.slice(member.indexOf(':') + 1)));
      const last = page.at(-1);
      return {
        items: users.filter((u): u is UserView => u !== null),
        nextCursor: members.length > page.length && last !== undefined ? encodeCursor(last) : null,
      };
    },

    async countUsers(status: UserStatus): Promise<number> {
      return await send<number>('countUsers', ['SCARD', keys.statusSet(status)]);
    },

    async findUserIdByEmail(email: string): Promise<string | null> {
      return await send<Reply>('findUserIdByEmail', ['HGET', keys.emailIndex, email]);
    },

    async isUserErased(userId: string): Promise<boolean> {
      return (await send<number>('isUserErased', ['SISMEMBER', keys.erased, userId])) === 1;
    },

    async getAppliedRevision(streamId: string): Promise<bigint | null> {
      const revision = await send<Reply>('getAppliedRevision', ['HGET', keys.applied, streamId]);
      return revision === null ? null : BigInt(revision);
    },

    async getCheckpoint(): Promise<bigint | null> {
      const checkpoint = await send<Reply>('getCheckpoint', ['GET', keys.checkpoint]);
      return checkpoint === null ? null : BigInt(checkpoint);
    },

    async holdStream(streamId: string, revision: bigint, reason: string): Promise<void> {
      const value = JSON.stringify({ revision: revision.toString(), reason, heldAt: new Date().toISOString() });
      await send<number>('holdStream', ['HSETNX', keys.heldStreams, streamId, value]);
    },

    async releaseStream(streamId: string): Promise<void> {
      await send<number>('releaseStream', ['HDEL', keys.heldStreams, streamId]);
    },

    async getHeldStream(streamId: string): Promise<HeldStream | null> {
      const value = await send<Reply>('getHeldStream', ['HGET', keys.heldStreams, streamId]);
      return value === null ? null : heldOf(streamId, value);
    },

    async listHeldStreams(limit: number): Promise<HeldStream[]> {
      // Few by nature (each is an incident); HSCAN keeps a large number from blocking Redis.
      const held: HeldStream[] = [];
      let cursor = '0';
      do {
        const [next, pairs] = await send<[string, string[]]>('listHeldStreams', ['HSCAN', keys.heldStreams, cursor, 'COUNT', '1000']);
        cursor = next;
        for (let i = 0; i + 1 < pairs.length; i += 2) held.push(heldOf(pairs[i] ?? '', pairs[i + 1] ?? '{}'));
      } while (cursor !== '0' && held.length < limit);
      return held.sort((a, b) => a.heldAt.localeCompare(b.heldAt) || a.streamId.localeCompare(b.streamId)).slice(0, limit);
    },

    async close(): Promise<void> {
      if (options.ownsClient ?? true) await closeRedis(client);
    },
  };
};
