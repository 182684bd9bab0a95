import { sleep as defaultSleep } from './retryWithBackoff.ts';

export interface ConsistencyWait {
  /** Bound on the wait (config.http.consistencyWaitMs); 0 answers at once with what there is. */
  readonly consistencyWaitMs: number;
  readonly pollIntervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/**
 * Read-your-writes: polls `read` until `reached` says it includes the caller's consistency
 * token, or the bound passes. Answers the last read, and `stale` when the bound passed first.
 */
export const waitForReadModel = async <T>(wait: ConsistencyWait, read: () => Promise<T>, reached: (value: T) => boolean): Promise<{ value: T; stale: boolean }> => {
  const now = wait.now ?? Date.now;
  const pause = wait.sleep ?? defaultSleep;
  const deadline = now() + wait.consistencyWaitMs;
  for (;;) {
    const value = await read();
    if (reached(value)) return { value, stale: false };
    const remaining = deadline - now();
    if (remaining <= 0) return { value, stale: true };
    await pause(Math.min(wait.pollIntervalMs ?? 20, remaining));
  }
};
