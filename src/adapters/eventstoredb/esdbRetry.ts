import { CancelledError, DeadlineExceededError, NotLeaderError, UnavailableError as ClientUnavailableError, isCommandError } from '@eventstore/db-client';
import { retryWithBackoff, type BackoffPolicy } from '#application/retryWithBackoff';
import { UnavailableError } from '#domain/errors';

/**
 * Bounded so that a Lambda behind API Gateway (29 s) still answers: the keepalive timeout (5 s)
 * plus a few short backoffs fit well inside it.
 */
export const DEFAULT_RETRY_POLICY: BackoffPolicy = Object.freeze({ baseDelayMs: 50, maxDelayMs: 1_000, maxElapsedMs: 10_000, maxAttempts: 8 });

/** Longest one attempt may take before it counts as lost on a dead connection. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;

/** Told about every retry, e.g. to log it or count it. */
export type RetryListener = (operation: string, error: unknown, attempt: number, delayMs: number) => void;

export interface EsdbCallPolicy {
  readonly retry: BackoffPolicy;
  readonly attemptTimeoutMs: number;
  readonly onRetry?: RetryListener | undefined;
}

/** An attempt got no answer in time; the connection is presumed dead (retryable). */
export class AttemptTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`${operation} got no answer from EventStoreDB within ${timeoutMs} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/**
 * Failures where the request may simply be sent again: the node is unreachable, the call ran
 * out of time, the node is not the leader (the client has switched to the leader already), or
 * the channel was torn down under the call. Everything else — a concurrency conflict, a
 * deleted stream, access denied, a bad request — would fail the same way again.
 */
export const isTransientEsdbError = (error: unknown): boolean => {
  if (error instanceof AttemptTimeoutError) return true;
  if (error instanceof ClientUnavailableError || error instanceof DeadlineExceededError || error instanceof NotLeaderError || error instanceof CancelledError)
    return true;
  if (error instanceof Error && isCommandError(error)) return false;
  // A raw gRPC status that reached us unconverted (the client passes some stream errors through).
  if (error instanceof Error && 'code' in error && typeof error.code === 'number') {
    const details = 'details' in error ? error.details : undefined;
    if (error.code === GRPC_CANCELLED) return details !== 'Cancelled on client';
    return error.code === GRPC_DEADLINE_EXCEEDED || error.code === GRPC_UNAVAILABLE;
  }
  return false;
};

export const describeError = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export const unavailable = (operation: string, cause: unknown): UnavailableError => {
  const error = new UnavailableError(`EventStoreDB is unavailable (${operation}): ${describeError(cause)}`, { store: 'eventstoredb', operation });
  error.cause = cause;
  return error;
};

/** Rejects with AttemptTimeoutError when `promise` has not settled within `timeoutMs`. */
export const withAttemptTimeout = <T>(operation: string, promise: Promise<T>, timeoutMs: number, onTimeout?: () => void): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new AttemptTimeoutError(operation, timeoutMs));
    }, timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/**
 * Runs one EventStoreDB request with bounded retry on transient failures; once the bound is
 * spent the last failure surfaces as the port's UnavailableError. Other errors pass through
 * untouched for the caller to translate. Each attempt gets a signal that aborts when its time
 * is up, so a streaming read can cancel its call instead of leaving it hanging.
 */
export const callWithRetry = async <T>(operation: string, attempt: (signal: AbortSignal) => Promise<T>, policy: EsdbCallPolicy): Promise<T> => {
  try {
    return await retryWithBackoff(
      () => {
        const controller = new AbortController();
        return withAttemptTimeout(operation, attempt(controller.signal), policy.attemptTimeoutMs, () => controller.abort());
      },
      policy.retry,
      { isTransient: isTransientEsdbError, onRetry: (error, attempt, delayMs) => policy.onRetry?.(operation, error, attempt, delayMs) },
    );
  } catch (error) {
    if (isTransientEsdbError(error)) throw unavailable(operation, error);
    throw error;
  }
};
