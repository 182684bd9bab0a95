import {
  PersistentSubscriptionDoesNotExistError,
  PersistentSubscriptionDroppedError,
  type PersistentSubscriptionToAll,
  type PersistentSubscriptionToAllResolvedEvent,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { DeliveredEvent, EventSubscription, NackAction } from '#ports/eventSource';
import { describeError, isTransientEsdbError, unavailable } from './esdbRetry.ts';
import { toStoredEvent } from './recordedEvent.ts';

/** Ids per ack/nack message: keeps each request small whatever the batch size. */
const IDS_PER_MESSAGE = 500;

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
};

/**
 * A broken subscription is something to resubscribe from (UnavailableError): the connection
 * dropped, the server dropped the subscription, or the group vanished (subscribe recreates it).
 * Anything else (access denied, a bug) surfaces as it is.
 */
const subscriptionFailure = (error: unknown): Error =>
  isTransientEsdbError(error) || error instanceof PersistentSubscriptionDroppedError || error instanceof PersistentSubscriptionDoesNotExistError
    ? unavailable('persistentSubscription', error)
    : error instanceof Error
      ? error
      : new Error(describeError(error));

type Waiter = { resolve: (result: IteratorResult<DeliveredEvent>) => void; reject: (error: Error) => void };

/**
 * The client's persistent subscription (a Node stream) as the port's EventSubscription. Events
 * are queued as they arrive — the server sends at most `bufferSize` unacknowledged ones, which
 * bounds the queue — and handed out one by one. Acks and nacks go by the id the server expects:
 * the link's when the event came through a link (a parked replay), else the event's own.
 */
export class EventStoreDBSubscription implements EventSubscription {
  private readonly queue: DeliveredEvent[] = [];
  private readonly resolvedById = new Map<string, PersistentSubscriptionToAllResolvedEvent>();
  private waiter: Waiter | null = null;
  private failure: Error | null = null;
  private closed = false;
  readonly confirmed: Promise<void>;

  /** `maxRetryCount`: the group's; a retry beyond it is a park, sent by us so that the reason survives. */
  constructor(
    private readonly subscription: PersistentSubscriptionToAll,
    private readonly maxRetryCount: number,
  ) {
    // Rejects with the client's own error, so that the caller can tell transient failures apart.
    this.confirmed = new Promise((resolve, reject) => {
      subscription.once('confirmation', () => resolve());
      subscription.once('error', reject);
      subscription.once('close', () => reject(unavailable('persistentSubscription', 'closed before it was confirmed')));
    });
    // Settled by subscribe(); unobserved rejections after that are not news.
    this.confirmed.catch(() => undefined);
    subscription.on('data', (resolved: PersistentSubscriptionToAllResolvedEvent) => this.receive(resolved));
    // An error listener stays attached for the stream's whole life: an unheard 'error' would crash the process.
    subscription.on('error', (error: unknown) => this.fail(subscriptionFailure(error)));
    subscription.on('end', () => this.fail(unavailable('persistentSubscription', 'the server ended the subscription')));
    subscription.on('close', () => this.fail(unavailable('persistentSubscription', 'the subscription call closed')));
  }

  [Symbol.asyncIterator](): AsyncIterator<DeliveredEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async ack(events: readonly DeliveredEvent[]): Promise<void> {
    await this.settle(events, (resolved) => this.subscription.ack(...resolved));
  }

  async nack(events: readonly DeliveredEvent[], action: NackAction, reason: string): Promise<void> {
    if (action !== 'retry') {
      await this.settle(events, (resolved) => this.subscription.nack(action, reason, ...resolved));
      return;
    }
    // The server would park these itself, but under a generic reason ("Reached retry count of
    // N"); parking them here keeps the projector's reason for whoever lists parked events.
    const exhausted = events.filter((delivered) => delivered.retryCount >= this.maxRetryCount);
    const retried = events.filter((delivered) => delivered.retryCount < this.maxRetryCount);
    await this.settle(exhausted, (resolved) => this.subscription.nack('park', `retries exhausted: ${reason}`, ...resolved));
    await this.settle(retried, (resolved) => this.subscription.nack('retry', reason, ...resolved));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.resolvedById.clear();
    this.waiter?.resolve({ done: true, value: undefined });
    this.waiter = null;
    // Cancels the gRPC call: the server hands this consumer's unacknowledged events to others,
    // and the client forgets the stream (no leak across resubscriptions, KurrentDB-Client-NodeJS #172).
    await this.subscription.unsubscribe();
  }

  private next(): Promise<IteratorResult<DeliveredEvent>> {
    const event = this.queue.shift();
    if (event !== undefined) return Promise.resolve({ done: false, value: event });
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private receive(resolved: PersistentSubscriptionToAllResolvedEvent): void {
    if (this.closed || this.failure) return;
    if (resolved.event === undefined) {
      // A link whose event is gone (e.g. a parked event of a deleted stream): nothing to deliver.
      void this.subscription.nack('skip', 'the linked event no longer exists', resolved).catch(() => undefined);
      return;
    }
    let delivered: DeliveredEvent;
    try {
      delivered = { event: toStoredEvent(resolved.event, resolved.commitPosition), retryCount: resolved.retryCount };
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(describeError(error)));
      return;
    }
    this.resolvedById.set(delivered.event.id, resolved);
    if (this.waiter) {
      this.waiter.resolve({ done: false, value: delivered });
      this.waiter = null;
    } else {
      this.queue.push(delivered);
    }
  }

  private fail(error: Error): void {
    if (this.closed || this.failure) return;
    // Events not yet handed out cannot be acknowledged any more; the server redelivers them.
    this.failure = error;
    this.queue.length = 0;
    this.resolvedById.clear();
    this.waiter?.reject(error);
    this.waiter = null;
    // Make sure the call is freed whichever way it broke.
    void this.subscription.unsubscribe().catch(() => undefined);
  }

  private async settle(events: readonly DeliveredEvent[], send: (resolved: ResolvedEvent[]) => Promise<void>): Promise<void> {
    if (events.length === 0) return;
    if (this.closed) throw unavailable('persistentSubscription', 'the subscription is closed; its events will be delivered again');
    if (this.failure) throw this.failure;
    const resolved = events.map((delivered) => this.resolvedById.get(delivered.event.id) ?? byEventId(delivered.event.id));
    try {
      for (const chunk of chunks(resolved, IDS_PER_MESSAGE)) await send(chunk);
    } catch (error) {
      // A write fails only when the call is gone; the server redelivers whatever was not acknowledged.
      throw unavailable('persistentSubscription', error);
    }
    for (const delivered of events) this.resolvedById.delete(delivered.event.id);
  }
}

/** Events read straight from `$all` are acknowledged by their own id. */
const byEventId = (id: string): ResolvedEvent => ({ event: { id } }) as unknown as ResolvedEvent;
