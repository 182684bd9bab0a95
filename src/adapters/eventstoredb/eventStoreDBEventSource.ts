import {
  PINNED,
  PersistentSubscriptionDoesNotExistError,
  PersistentSubscriptionExistsError,
  START,
  persistentSubscriptionToAllSettingsFromDefaults,
  streamNameFilter,
  type EventStoreDBClient,
  type PersistentSubscriptionToAllSettings,
} from '@eventstore/db-client';
import type { BackoffPolicy } from '#application/retryWithBackoff';
import type { EventSource, EventSubscription } from '#ports/eventSource';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, DEFAULT_RETRY_POLICY, callWithRetry, unavailable, type EsdbCallPolicy, type RetryListener } from './esdbRetry.ts';
import { EventStoreDBSubscription } from './persistentSubscription.ts';

/** Chronicle's own streams; everything else in `$all` is not the projector's business. */
export const DEFAULT_STREAM_PREFIXES: readonly string[] = Object.freeze(['user-']);

/** The persistent-subscription group's settings (config.ts reads them from the environment). */
export interface PersistentGroupSettings {
  readonly groupName: string;
  /** Unacknowledged events the server lets one consumer hold. */
  readonly bufferSize: number;
  /** Must stay below bufferSize: the server delivers nothing otherwise (KurrentDB #1313). */
  readonly readBatchSize: number;
  readonly checkpointAfterMs: number;
  readonly maxRetryCount: number;
  readonly messageTimeoutMs: number;
}

export interface EventStoreDBEventSourceSettings extends PersistentGroupSettings {
  readonly streamPrefixes?: readonly string[];
  readonly retry?: BackoffPolicy;
  readonly attemptTimeoutMs?: number;
  readonly onRetry?: RetryListener;
}

/**
 * Group settings. The client's defaults (read batch 20, buffers of 500) are sized for demos;
 * the server's live and history buffers are kept at least as large as a consumer's buffer so
 * a full consumer never waits on them.
 */
export const persistentSubscriptionSettings = (settings: EventStoreDBEventSourceSettings, afterPosition: bigint | null): PersistentSubscriptionToAllSettings =>
  persistentSubscriptionToAllSettingsFromDefaults({
    // The start is inclusive, so the event at the reader's checkpoint comes once more; the
    // projector drops it as a duplicate. (A position past it need not be a valid record start.)
    startFrom: afterPosition === null ? START : { commit: afterPosition, prepare: afterPosition },
    resolveLinkTos: false,
    consumerStrategyName: PINNED,
    messageTimeout: settings.messageTimeoutMs,
    maxRetryCount: settings.maxRetryCount,
    checkPointAfter: settings.checkpointAfterMs,
    readBatchSize: settings.readBatchSize,
    liveBufferSize: Math.max(500, settings.bufferSize),
    historyBufferSize: Math.max(500, settings.bufferSize),
  });

/**
 * The projector's source: a persistent subscription to `$all`, filtered on the server to
 * Chronicle's streams, consumer strategy Pinned (one stream's events go to one consumer, as far
 * as the server can manage). The group — and with it the checkpoint — lives on the server, so
 * `afterPosition` only matters the first time, when the group is created.
 */
export const createEventStoreDBEventSource = (client: EventStoreDBClient, settings: EventStoreDBEventSourceSettings): EventSource => {
  const policy: EsdbCallPolicy = {
    retry: settings.retry ?? DEFAULT_RETRY_POLICY,
    attemptTimeoutMs: settings.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
    onRetry: settings.onRetry,
  };
  const prefixes = [...(settings.streamPrefixes ?? DEFAULT_STREAM_PREFIXES)];

  const ensureGroup = async (afterPosition: bigint | null): Promise<void> => {
    try {
      await callWithRetry(
        'createPersistentSubscription',
        () =>
          client.createPersistentSubscriptionToAll(settings.groupName, persistentSubscriptionSettings(settings, afterPosition), {
            filter: streamNameFilter({ prefixes }),
          }),
        policy,
      );
    } catch (error) {
      // Several projector tasks share the group: whoever comes second finds it there.
      if (!(error instanceof PersistentSubscriptionExistsError)) throw error;
    }
  };

  const connect = (): Promise<EventStoreDBSubscription> =>
    callWithRetry(
      'subscribeToPersistentSubscription',
      async (signal) => {
        const subscription = new EventStoreDBSubscription(
          client.subscribeToPersistentSubscriptionToAll(settings.groupName, { bufferSize: settings.bufferSize }),
          settings.maxRetryCount,
        );
        // An attempt that times out must not leave its call open behind it.
        const onAbort = (): void => void subscription.close();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await subscription.confirmed;
          return subscription;
        } catch (error) {
          await subscription.close();
          throw error;
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      },
      policy,
    );

  return {
    async subscribe({ afterPosition }): Promise<EventSubscription> {
      await ensureGroup(afterPosition);
      try {
        return await connect();
      } catch (error) {
        // Someone deleted the group between our create and subscribe: create it again, once.
        if (!(error instanceof PersistentSubscriptionDoesNotExistError)) throw error;
        await ensureGroup(afterPosition);
        return connect().catch((again: unknown) => {
          throw again instanceof PersistentSubscriptionDoesNotExistError ? unavailable('subscribeToPersistentSubscription', again) : again;
        });
      }
    },
  };
};
