import type { StoredEvent } from './eventStore.ts';

/**
 * The projector's feed: at-least-once delivery, possibly out of order across and even within
 * streams (EventStoreDB's Pinned strategy is best effort). The projector makes redelivery and
 * reordering harmless by applying only the next revision of each stream.
 */
export interface DeliveredEvent {
  readonly event: StoredEvent;
  /** How often this event was delivered before (0 on first delivery). */
  readonly retryCount: number;
}

export type NackAction =
  /** Deliver again later (transient failure, or its predecessor is not applied yet). */
  | 'retry'
  /** Put aside with the reason, for listing and replay; delivery goes on without it. */
  | 'park'
  /** Drop it: never delivered again. */
  | 'skip';

export interface EventSubscription extends AsyncIterable<DeliveredEvent> {
  /** Done with these: their effect is durably written (or they were duplicates). */
  ack(events: readonly DeliveredEvent[]): Promise<void>;
  nack(events: readonly DeliveredEvent[], action: NackAction, reason: string): Promise<void>;
  /**
   * Stops delivery and frees the underlying call; unacknowledged events are delivered again to
   * whoever subscribes next. The iterator ends; a dropped connection instead makes it throw.
   */
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /**
   * The reader's own checkpoint (last position fully applied), used by sources that keep no
   * server-side checkpoint. Null: from the start of the log.
   */
  readonly afterPosition: bigint | null;
}

export interface EventSource {
  subscribe(options: SubscribeOptions): Promise<EventSubscription>;
}

export interface ParkedEvent {
  readonly event: StoredEvent;
  readonly reason: string;
  readonly parkedAt: Date;
}

export interface ParkedEvents {
  list(options?: { readonly maxCount?: number }): Promise<ParkedEvent[]>;
  /** Sends every parked event back to the subscription, oldest first; answers how many. */
  replay(): Promise<number>;
}
