/**
 * Exponential backoff with full jitter (delay drawn uniformly from 0..min(cap, base·2^n)),
 * bounded in attempts and in total time. Full jitter spreads the retries of many clients
 * that failed together, so a recovering store is not hit by synchronized waves; and only
 * errors the caller marks transient are retried — retrying a validation error or a
 * concurrency conflict blindly would just repeat the failure or hide a bug.
 */
export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** No new attempt starts once this much time has passed since the first one. */
  readonly maxElapsedMs: number;
  /** Upper bound on attempts, the first one included. */
  readonly maxAttempts?: number;
}

export interface RetryHooks {
  readonly isTransient: (error: unknown) => boolean;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

export const fullJitterDelay = (attempt: number, policy: Pick<BackoffPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number =>
  Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30)));

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Runs `operation` until it succeeds, fails with a non-transient error, or the policy's bounds are spent (then the last error is thrown). */
export const retryWithBackoff = async <T>(operation: (attempt: number) => Promise<T>, policy: BackoffPolicy, hooks: RetryHooks): Promise<T> => {
  const now = hooks.now ?? Date.now;
  const wait = hooks.sleep ?? sleep;
  const startedAt = now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const attemptsLeft = policy.maxAttempts === undefined || attempt + 1 < policy.maxAttempts;
      if (!hooks.isTransient(error) || !attemptsLeft || hooks.signal?.aborted) throw error;
      const delayMs = fullJitterDelay(attempt, policy, hooks.random);
      if (now() - startedAt + delayMs > policy.maxElapsedMs) throw error;
      hooks.onRetry?.(error, attempt + 1, delayMs);
      await wait(delayMs, hooks.signal);
    }
  }
};
