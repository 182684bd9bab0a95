/** What the watermark keeps of a pending event: enough to ask the read models whether it is applied. */
export interface WatermarkEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
}

/**
 * The checkpoint as a watermark: the highest position P such that every event this projector
 * has received at or below P is resolved (applied, a duplicate, or parked). Events sent back
 * for retry stay pending, so the checkpoint never claims an event that is not in the read
 * model: read-your-writes and the restart position both rely on that.
 */
export interface Watermark {
  /** An event was taken from the subscription. */
  received(event: WatermarkEvent): void;
  /** Its effect is durable (or it never will have one): it no longer holds the watermark back. */
  resolve(position: bigint): void;
  /**
   * The watermark now, or — given `assumeResolved` — what it would be once those (received)
   * positions are resolved, without recording anything. Null while nothing is resolved.
   */
  current(assumeResolved?: ReadonlySet<bigint>): bigint | null;
  /** The lowest pending or orphaned event, which holds the watermark back; null if none. */
  blocking(): WatermarkEvent | null;
  /**
   * The subscription is gone: its pending events become orphans. A new subscription may deliver
   * newer events before it redelivers them, so the watermark stays below each orphan until it
   * is resolved; kept apart, they do not make the watermark's own structures grow behind them.
   */
  orphanPending(): void;
  /** Gives up on the orphans not delivered again since: answers how many. */
  abandonOrphans(): number;
  /** How many orphans are not delivered again yet. */
  orphansAwaited(): number;
}

const RESOLVED = true;

export const createWatermark = (): Watermark => {
  // Positions received or resolved and not yet covered by the watermark, ascending from `head`
  // (entries before it are covered and dropped in bulk), with each one's state: the event while
  // pending, RESOLVED after. Events arrive almost always in position order, so keeping this
  // sorted is an append, and the watermark is the end of the resolved run at the front: O(1)
  // per event, where a scan of everything pending would cost O(in flight) per batch.
  let order: bigint[] = [];
  let head = 0;
  const state = new Map<bigint, WatermarkEvent | typeof RESOLVED>();
  let mark: bigint | null = null;
  // Orphan → whether a later subscription delivered it again (then it is only waiting to be resolved).
  const orphans = new Map<bigint, { readonly event: WatermarkEvent; redelivered: boolean }>();
  let lowestOrphan: WatermarkEvent | null = null;

  const insert = (position: bigint, entry: WatermarkEvent | typeof RESOLVED): void => {
    state.set(position, entry);
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

  const findLowestOrphan = (): void => {
    lowestOrphan = null;
    for (const { event } of orphans.values()) if (lowestOrphan === null || event.position < lowestOrphan.position) lowestOrphan = event;
  };

  const forgetOrphan = (position: bigint): boolean => {
    if (!orphans.delete(position)) return false;
    if (lowestOrphan?.position === position) findLowestOrphan();
    return true;
  };

  /** Every event below an orphan is resolved, so just below it is a valid checkpoint too. */
  const belowOrphans = (position: bigint | null): bigint | null =>
    position === null || lowestOrphan === null || position < lowestOrphan.position ? position : lowestOrphan.position - 1n;

  return {
    received(event) {
      const orphan = orphans.get(event.position);
      if (orphan !== undefined) orphan.redelivered = true;
      else if (!state.has(event.position)) insert(event.position, event);
    },
    resolve(position) {
      // A resolved orphan counts like any resolved event: once nothing pending or orphaned is
      // below it, the watermark moves over it (else it stayed behind until a newer event came).
      const wasOrphan = forgetOrphan(position);
      if (!wasOrphan && state.has(position)) state.set(position, RESOLVED);
      else if (mark === null || position > mark) insert(position, RESOLVED);
    },
    current(assumeResolved) {
      advance();
      if (assumeResolved === undefined) return belowOrphans(mark);
      let best = mark;
      for (let at = head; at < order.length && (state.get(order[at]!) === RESOLVED || assumeResolved.has(order[at]!)); at++) {
        const position = order[at]!;
        if (best === null || position > best) best = position;
      }
      return belowOrphans(best);
    },
    blocking() {
      advance();
      const entry = head < order.length ? state.get(order[head]!) : undefined;
      const pending = entry === undefined || entry === RESOLVED ? null : entry;
      return pending === null || (lowestOrphan !== null && lowestOrphan.position < pending.position) ? lowestOrphan : pending;
    },
    orphanPending() {
      advance();
      for (let at = head; at < order.length; at++) {
        const entry = state.get(order[at]!);
        if (entry === undefined || entry === RESOLVED) continue;
        orphans.set(entry.position, { event: entry, redelivered: false });
        if (lowestOrphan === null || entry.position < lowestOrphan.position) lowestOrphan = entry;
      }
      for (const orphan of orphans.values()) orphan.redelivered = false;
      // Resolved entries behind them are covered now: the orphans alone hold the checkpoint back.
      for (let at = head; at < order.length; at++) {
        const position = order[at]!;
        if (state.get(position) === RESOLVED && (mark === null || position > mark)) mark = position;
      }
      state.clear();
      order = [];
      head = 0;
    },
    abandonOrphans() {
      let count = 0;
      for (const [position, orphan] of orphans) {
        if (orphan.redelivered) continue;
        orphans.delete(position);
        count++;
      }
      findLowestOrphan();
      return count;
    },
    orphansAwaited() {
      let count = 0;
      for (const orphan of orphans.values()) if (!orphan.redelivered) count++;
      return count;
    },
  };
};
