import type { status } from '@grpc/grpc-js';
import type { ConnectionProxy, DropOptions } from './connectionProxy.ts';
import { statusError, type StatusError } from './statusErrors.ts';

/**
 * Names the faults address. `append` covers Append and BatchAppend (one failure per append
 * request); `read` covers reads and catch-up subscriptions; `persistent.*` the persistent
 * subscription service.
 */
export type FaultableMethod =
  | 'append'
  | 'read'
  | 'delete'
  | 'tombstone'
  | 'getSupportedMethods'
  | 'persistent.create'
  | 'persistent.update'
  | 'persistent.delete'
  | 'persistent.read'
  | 'persistent.getInfo'
  | 'persistent.list'
  | 'persistent.replayParked'
  | 'persistent.restartSubsystem';

export interface Faults {
  /** Ends every open client connection (see DropOptions); new connections work as before. */
  dropConnections(options: DropOptions): Promise<void>;
  /** Holds every call (and every BatchAppend request) this long before answering; 0 turns it off. */
  delay(ms: number): void;
  /** The next `count` calls of `method` end with `code` and no effect. */
  failNext(method: FaultableMethod, count: number, code: status): void;
  /** On: connections are accepted and never answered, what a dead peer looks like. */
  blackhole(on: boolean): void;
  /** Back to normal: no delay, no pending failures, no blackhole. */
  reset(): void;
}

/** The call-level half of the faults, consulted by every handler before it does anything. */
export class FaultPlan {
  private delayMs = 0;
  private readonly failures = new Map<FaultableMethod, { remaining: number; code: status }>();

  setDelay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  failNext(method: FaultableMethod, count: number, code: status): void {
    if (count <= 0) this.failures.delete(method);
    else this.failures.set(method, { remaining: count, code });
  }

  clear(): void {
    this.delayMs = 0;
    this.failures.clear();
  }

  /** Waits out the delay, then answers the failure to send instead of handling the call, if any. */
  async intercept(method: FaultableMethod): Promise<StatusError | null> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const failure = this.failures.get(method);
    if (failure === undefined) return null;
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.failures.delete(method);
    return statusError(failure.code, `Injected fault on ${method}`);
  }
}

export const createFaults = (plan: FaultPlan, proxy: ConnectionProxy): Faults => ({
  dropConnections: async (options) => {
    proxy.drop(options);
    // Let the sockets' close events run before the caller carries on.
    await new Promise((resolve) => setTimeout(resolve, 20));
  },
  delay: (ms) => plan.setDelay(ms),
  failNext: (method, count, code) => plan.failNext(method, count, code),
  blackhole: (on) => proxy.setBlackhole(on),
  reset: () => {
    plan.clear();
    proxy.setBlackhole(false);
  },
});
