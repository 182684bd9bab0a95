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

export const createWatermark = (): Watermark => {
  const pending = new Set<bigint>();
  // Resolved positions not yet covered by the watermark (some pending one is below them).
  let resolvedAbove: bigint[] = [];
  let mark: bigint | null = null;

  const NONE: ReadonlySet<bigint> = new Set();

  const compute = (extraResolved: ReadonlySet<bigint>): bigint | null => {
    let minPending: bigint | null = null;
    for (const p of pending) if (!extraResolved.has(p) && (minPending === null || p < minPending)) minPending = p;
    let best = mark;
    const consider = (p: bigint): void => {
      if ((minPending === null || p < minPending) && (best === null || p > best)) best = p;
    };
    for (const p of resolvedAbove) consider(p);
    for (const p of extraResolved) consider(p);
    return best;
  };

  return {
    received(position) {
      pending.add(position);
    },
    resolve(position) {
      if (pending.delete(position) || mark === null || position > mark) resolvedAbove.push(position);
    },
    current(assumeResolved) {
      if (assumeResolved !== undefined) return compute(assumeResolved);
      mark = compute(NONE);
      const covered = mark;
      if (covered !== null) resolvedAbove = resolvedAbove.filter((p) => p > covered);
      return mark;
    },
    reset() {
      pending.clear();
      resolvedAbove = [];
    },
  };
};
