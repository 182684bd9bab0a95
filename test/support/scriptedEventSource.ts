import type { DeliveredEvent, EventSource, EventSubscription, NackAction, SubscribeOptions } from '#ports/eventSource';
import type { StoredEvent } from '#ports/eventStore';

export interface NackRecord {
  readonly event: StoredEvent;
  readonly action: NackAction;
  readonly reason: string;
  readonly retryCount: number;
}

export interface ScriptedEventSource extends EventSource {
  /** Delivers these next, in this order (duplicates and reordering are the point). */
  push(...events: StoredEvent[]): void;
  /** The open subscription's iterator throws after handing out `count` more events. */
  dropAfter(count: number): void;
  readonly acked: StoredEvent[];
  readonly nacked: NackRecord[];
  readonly subscriptions: SubscribeOptions[];
  /** Events handed out and neither acked nor nacked. */
  inFlight(): number;
}

/**
 * An EventSource that delivers exactly what the test scripts, like a persistent subscription
 * would: nack 'retry' (and anything unacknowledged when a subscription ends) comes back later
 * with its retry count raised. For testing the runtime against orders a real log rarely shows.
 */
export const createScriptedEventSource = (): ScriptedEventSource => {
  const queue: DeliveredEvent[] = [];
  const acked: StoredEvent[] = [];
  const nacked: NackRecord[] = [];
  const subscriptions: SubscribeOptions[] = [];
  const outstanding = new Set<DeliveredEvent>();
  let wake: (() => void) | null = null;
  let current: { dropIn: number | null; closed: boolean; wake: () => void } | null = null;

  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };

  const settle = (delivered: DeliveredEvent): void => {
    for (const held of outstanding)
      if (held.event.id === delivered.event.id && held.retryCount === delivered.retryCount) {
        outstanding.delete(held);
        return;
      }
  };

  const giveBackOutstanding = (): void => {
    queue.unshift(...[...outstanding].map((d) => ({ event: d.event, retryCount: d.retryCount + 1 })));
    outstanding.clear();
  };

  return {
    acked,
    nacked,
    subscriptions,
    inFlight: () => outstanding.size,
    push(...events) {
      queue.push(...events.map((event) => ({ event, retryCount: 0 })));
      notify();
    },
    dropAfter(count) {
      if (current !== null) current.dropIn = count;
      current?.wake();
    },
    async subscribe(options) {
      subscriptions.push(options);
      const state = { dropIn: null as number | null, closed: false, wake: notify };
      current = state;
      const subscription: EventSubscription = {
        [Symbol.asyncIterator]: () => ({
          async next(): Promise<IteratorResult<DeliveredEvent>> {
            for (;;) {
              if (state.closed) return { done: true, value: undefined };
              if (state.dropIn === 0) {
                state.closed = true;
                giveBackOutstanding();
                throw new Error('scripted connection drop');
              }
              const item = queue.shift();
              if (item !== undefined) {
                if (state.dropIn !== null) state.dropIn--;
                outstanding.add(item);
                return { done: false, value: item };
              }
              await new Promise<void>((resolve) => (wake = resolve));
            }
          },
        }),
        async ack(events) {
          for (const d of events) {
            settle(d);
            acked.push(d.event);
          }
        },
        async nack(events, action, reason) {
          for (const d of events) {
            settle(d);
            nacked.push({ event: d.event, action, reason, retryCount: d.retryCount });
            if (action === 'retry') queue.push({ event: d.event, retryCount: d.retryCount + 1 });
          }
          notify();
        },
        async close() {
          if (state.closed) return;
          state.closed = true;
          giveBackOutstanding();
          notify();
        },
      };
      return subscription;
    },
  };
};
