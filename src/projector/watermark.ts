/**
 * The checkpoint as a watermark: the highest position P such that every event this projector
 * has received at or below P is resolved (applied, a duplicate, or parked). Events sent back
 * for retry stay pending, so the checkpoint never claims an event that is not in the read
 * model — read-your-writes and the restart position both rely on that.
 */
export interface Watermark {
  /** An event was taken from the subscription. */
  received(position: bigint): void;
  /** Its effect is durable (or it never will have one): it no longer holds the watermark back. */
  resolve(position: bigint): void;
  /**
   * The watermark now, or — given `assumeResolved` — what it would be once those (received)
   * positions are resolved, without recording anything. Null while nothing is resolved.
   */
  current(assumeResolved?: ReadonlySet<bigint>): bigint | null;
  /** A new subscription redelivers whatever was pending: forget it. */
  reset(): void;
}

const PENDING = false;
const RESOLVED = true;

export const createWatermark = (): Watermark => {
  // Positions received or resolved and not yet covered by the watermark, ascending from `head`
  // (entries before it are covered and dropped in bulk), with each one's state. Events arrive
  // almost always in position order, so keeping this sorted is an append, and the watermark
  // is the end of the resolved run at the front: O(1) per event, where a scan of everything
  // pending would cost O(in flight) per batch.
  let order: bigint[] = [];
  let head = 0;
  const state = new Map<bigint, boolean>();
  let mark: bigint | null = null;

  const insert = (position: bigint, resolved: boolean): void => {
    state.set(position, resolved);
    let at = order.length;
    while (at > head && order[at - 1]! > position) at--;
    if (at === order.length) order.push(position);
    else order.splice(at, 0, position);
  };

  /** Moves the watermark over the resolved run at the front (what current() reports anyway). */
  const advance = (): void => {
    let at = head;
    for (; at < order.length && state.get(order[at]!) === RESOLVED; at++) {
      const position = order[at]!;
      state.delete(position);
      if (mark === null || position > mark) mark = position;
    }
    head = at;
    if (head > 1024 && head * 2 > order.length) {
      order = order.slice(head);
      head = 0;
    }
  };

  return {
    received(position) {
      if (!state.has(position)) insert(position, PENDING);
    },
    resolve(position) {
      if (state.has(position)) state.set(position, RESOLVED);
      else if (mark === null || position > mark) insert(position, RESOLVED);
    },
    current(assumeResolved) {
      advance();
      if (assumeResolved === undefined) return mark;
      let best = mark;
      for (let at = head; at < order.length && (state.get(order[at]!) === RESOLVED || assumeResolved.has(order[at]!)); at++) {
        const position = order[at]!;
        if (best === null || position > best) best = position;
      }
      return best;
    },
    reset() {
      state.clear();
      order = [];
      head = 0;
    },
  };
};
