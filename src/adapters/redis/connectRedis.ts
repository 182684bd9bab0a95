import { createClient } from 'redis';
import { translateRedisError } from './redisErrors.ts';

export interface ConnectRedisOptions {
  /** Bound on one TCP connect attempt. */
  readonly connectTimeoutMs?: number;
  /** Attempts of the first connection before giving up with UnavailableError. */
  readonly initialConnectAttempts?: number;
  /** A connection silent for this long is dropped and re-established (detects a hung server). */
  readonly socketTimeoutMs?: number;
  /** Keeps idle connections alive and under the socket timeout. */
  readonly pingIntervalMs?: number;
  /** Where connection errors go once connected (the client reconnects by itself). */
  readonly onError?: (error: Error) => void;
}

const buildClient = (url: string, options: Required<Omit<ConnectRedisOptions, 'onError'>>, isConnected: () => boolean) =>
  createClient({
    url,
    // While reconnecting, commands fail at once (UnavailableError) instead of queueing without
    // bound: the projector backs off and retries, a query answers 503.
    disableOfflineQueue: true,
    pingInterval: options.pingIntervalMs,
    socket: {
      connectTimeout: options.connectTimeoutMs,
      socketTimeout: options.socketTimeoutMs,
      // Once connected, always reconnect (capped exponential delay with jitter); before that,
      // give up after a few attempts so that a wrong REDIS_URL fails the start instead of hanging.
      reconnectStrategy: (retries) => {
        if (!isConnected() && retries + 1 >= options.initialConnectAttempts) return false;
        return Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100);
      },
    },
  });

export type RedisClient = ReturnType<typeof buildClient>;

/**
 * A connected node-redis client with the project's reconnect and timeout policy. A failure to
 * connect is an UnavailableError.
 */
export const connectRedis = async (url: string, options: ConnectRedisOptions = {}): Promise<RedisClient> => {
  let connected = false;
  const client = buildClient(
    url,
    {
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      initialConnectAttempts: options.initialConnectAttempts ?? 3,
      socketTimeoutMs: options.socketTimeoutMs ?? 15_000,
      pingIntervalMs: options.pingIntervalMs ?? 5000,
    },
    () => connected,
  );
  // node-redis emits 'error' for every failed (re)connect; unhandled, it would crash the process.
  client.on('error', (error: Error) => options.onError?.(error));
  client.on('ready', () => {
    connected = true;
  });
  try {
    await client.connect();
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw translateRedisError(error, `connect to ${redactUrl(url)}`);
  }
  return client;
};

/** Closes the client, waiting a bounded time for commands in flight. */
export const closeRedis = async (client: RedisClient, timeoutMs = 2000): Promise<void> => {
  if (!client.isOpen) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([client.close().then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout' && client.isOpen) client.destroy();
};

const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
};
