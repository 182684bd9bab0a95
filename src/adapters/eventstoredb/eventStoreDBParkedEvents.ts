import { FORWARDS, START, StreamNotFoundError, type EventStoreDBClient } from '@eventstore/db-client';
import type { BackoffPolicy } from '#application/retryWithBackoff';
import type { ParkedEvent, ParkedEvents } from '#ports/eventSource';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, DEFAULT_RETRY_POLICY, callWithRetry, type EsdbCallPolicy, type RetryListener } from './esdbRetry.ts';
import { toStoredEvent } from './recordedEvent.ts';
import { collect } from './streamingRead.ts';

export interface EventStoreDBParkedEventsSettings {
  readonly groupName: string;
  readonly retry?: BackoffPolicy;
  readonly attemptTimeoutMs?: number;
  readonly onRetry?: RetryListener;
}

/** Where the server parks a `$all` group's events: one `$>` link per parked event. */
export const parkedStreamName = (groupName: string): string => `$persistentsubscription-$all::${groupName}-parked`;

const reasonOf = (metadata: unknown): string =>
  typeof metadata === 'object' && metadata !== null && 'Reason' in metadata && typeof metadata.Reason === 'string' ? metadata.Reason : '';

const addedOf = (metadata: unknown, fallback: Date): Date => {
  if (typeof metadata !== 'object' || metadata === null || !('Added' in metadata) || typeof metadata.Added !== 'string') return fallback;
  const added = new Date(metadata.Added);
  return Number.isNaN(added.getTime()) ? fallback : added;
};

/**
 * Parked events of the projector's group. The server keeps them as links whose metadata carries
 * the reason and the time; after a replay it truncates the parked stream, so list() shows only
 * what is still parked.
 */
export const createEventStoreDBParkedEvents = (client: EventStoreDBClient, settings: EventStoreDBParkedEventsSettings): ParkedEvents => {
  const policy: EsdbCallPolicy = {
    retry: settings.retry ?? DEFAULT_RETRY_POLICY,
    attemptTimeoutMs: settings.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
    onRetry: settings.onRetry,
  };
  const streamName = parkedStreamName(settings.groupName);

  const list = async (options: { readonly maxCount?: number } = {}): Promise<ParkedEvent[]> => {
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    try {
      const resolved = await callWithRetry(
        'listParked',
        (signal) =>
          collect(client.readStream(streamName, { direction: FORWARDS, fromRevision: START, resolveLinkTos: true, maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER }), signal),
        policy,
      );
      // A link whose event was deleted since has nothing left to show or replay.
      return resolved.flatMap(({ event, link }) =>
        event === undefined ? [] : [{ event: toStoredEvent(event), reason: reasonOf(link?.metadata), parkedAt: addedOf(link?.metadata, link?.created ?? event.created) }],
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  };

  return {
    list,
    async replay() {
      const count = (await list()).length;
      if (count === 0) return 0;
      await callWithRetry('replayParked', () => client.replayParkedMessagesToAll(settings.groupName), policy);
      return count;
    },
  };
};
