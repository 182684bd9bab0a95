import type { StreamingRead } from '@eventstore/db-client';

/**
 * Collects a streaming read. When `signal` aborts (the attempt ran out of time) the call is
 * cancelled and the stream destroyed, so neither the gRPC call nor this loop is left hanging.
 */
export const collect = async <E>(read: StreamingRead<E>, signal: AbortSignal): Promise<E[]> => {
  const onAbort = (): void => {
    void read.cancel().finally(() => read.destroy());
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const items: E[] = [];
    for await (const item of read) items.push(item);
    return items;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
};
