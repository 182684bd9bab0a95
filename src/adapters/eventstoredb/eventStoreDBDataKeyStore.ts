import { randomUUID } from 'node:crypto';
import { NO_STREAM, StreamDeletedError, StreamNotFoundError, WrongExpectedVersionError, type EventStoreDBClient } from '@eventstore/db-client';
import { GoneError } from '#domain/errors';
import type { DataKeyStore, KeyWrapper } from '#ports/dataKeys';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, DEFAULT_RETRY_POLICY, callWithRetry, type EsdbCallPolicy } from './esdbRetry.ts';
import { collect } from './streamingRead.ts';

export const DATA_KEY_STREAM_PREFIX = 'userKey-';
export const dataKeyStreamId = (userId: string): string => `${DATA_KEY_STREAM_PREFIX}${userId}`;
const DATA_KEY_EVENT_TYPE = 'DataKeyCreated';

const erased = (userId: string): GoneError => new GoneError('USER_ERASED', `user ${userId} was erased`, { userId });

/**
 * The production key store: one stream per user, `userKey-<id>`, holding one event with the
 * wrapped key. Destroying the key tombstones the stream: from then on it reads as deleted and
 * can never be written again (destroyed is terminal), and the next scavenge removes the
 * event's bytes from the database files. Beside the event log, so it needs no other service,
 * shares its replication and backups — which is why keys are wrapped (KMS on AWS): a backup
 * taken before the scavenge holds only wrapped keys.
 */
export const createEventStoreDBDataKeyStore = (client: EventStoreDBClient, options: { readonly wrapper: KeyWrapper; readonly policy?: Partial<EsdbCallPolicy> }): DataKeyStore => {
  const policy: EsdbCallPolicy = {
    retry: options.policy?.retry ?? DEFAULT_RETRY_POLICY,
    attemptTimeoutMs: options.policy?.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
    onRetry: options.policy?.onRetry,
  };
  const { wrapper } = options;

  /** The wrapped key; null: no key yet; throws GoneError when the stream was tombstoned. */
  const readWrapped = async (userId: string): Promise<Uint8Array | null> => {
    try {
      const events = await callWithRetry('readDataKey', (signal) => collect(client.readStream(dataKeyStreamId(userId), { maxCount: 1 }), signal), policy);
      const data = events[0]?.event?.data as { wrappedKey?: unknown } | undefined;
      if (typeof data?.wrappedKey !== 'string') return null;
      return new Uint8Array(Buffer.from(data.wrappedKey, 'base64'));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      if (error instanceof StreamDeletedError) throw erased(userId);
      throw error;
    }
  };

  return {
    async getOrCreate(userId, fresh) {
      const existing = await readWrapped(userId);
      if (existing !== null) return wrapper.unwrap(existing, userId);
      const key = fresh();
      const wrapped = await wrapper.wrap(key, userId);
      // A random id, fixed across this call's retries: a retry of an append that did land is
      // acknowledged, while a racer's different key is refused (no_stream) and read back instead.
      const event = { id: randomUUID(), type: DATA_KEY_EVENT_TYPE, contentType: 'application/json' as const, data: { wrappedKey: Buffer.from(wrapped).toString('base64') }, metadata: undefined };
      try {
        await callWithRetry('createDataKey', () => client.appendToStream(dataKeyStreamId(userId), event, { expectedRevision: NO_STREAM }), policy);
        return key;
      } catch (error) {
        if (error instanceof StreamDeletedError) throw erased(userId);
        if (!(error instanceof WrongExpectedVersionError)) throw error;
      }
      const winner = await readWrapped(userId);
      if (winner === null) throw erased(userId);
      return wrapper.unwrap(winner, userId);
    },

    async getMany(userIds) {
      const distinct = [...new Set(userIds)];
      const keys = await Promise.all(
        distinct.map(async (userId) => {
          try {
            const wrapped = await readWrapped(userId);
            return wrapped === null ? null : await wrapper.unwrap(wrapped, userId);
          } catch (error) {
            if (error instanceof GoneError) return null;
            throw error;
          }
        }),
      );
      return new Map(distinct.map((userId, i) => [userId, keys[i] ?? null]));
    },

    async destroy(userId) {
      try {
        await callWithRetry('destroyDataKey', () => client.tombstoneStream(dataKeyStreamId(userId)), policy);
      } catch (error) {
        // Already tombstoned: destroyed before, which is what was asked.
        if (!(error instanceof StreamDeletedError)) throw error;
      }
    },

    async close() {},
  };
};
