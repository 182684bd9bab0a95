import {
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from 'redis';
import { UnavailableError } from '#domain/errors';

/**
 * Replies that mean "this server cannot serve you right now" rather than "your request is
 * wrong": still loading its data, a replica that refuses writes, a failover under way, a
 * script running too long, out of memory, or refusing writes after a failed save.
 */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN|MOVED|ASK|NOREPLICAS|OOM|MISCONF|UNBLOCKED)\b/;

/** Client-side failures: no connection, connection lost or timed out, client closed under us. */
const TRANSIENT_CLIENT_ERRORS = [
  ClientOfflineError,
  ClientClosedError,
  ConnectionTimeoutError,
  SocketTimeoutError,
  SocketClosedUnexpectedlyError,
  DisconnectsClientError,
  ReconnectStrategyError,
  TimeoutError,
  AbortError,
];

const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

export const isTransientRedisError = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  if (error instanceof ErrorReply) return TRANSIENT_REPLY.test(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  return TRANSIENT_CLIENT_ERRORS.some((type) => error instanceof type) || (code !== undefined && TRANSIENT_SOCKET_CODES.has(code));
};

/**
 * Redis failures in the project's terms: a transient one becomes UnavailableError (the caller
 * may retry); anything else (a script rejecting bad data, WRONGTYPE) is passed on as it is,
 * since retrying it would fail the same way.
 */
export const translateRedisError = (error: unknown, operation: string): unknown =>
  isTransientRedisError(error)
    ? new UnavailableError(`redis unavailable during ${operation}: ${(error as Error).message}`, { operation, cause: (error as Error).constructor.name })
    : error;

/** One command through `client`, its failure translated (translateRedisError) under the name of the operation. */
export const redisSender =
  (client: { sendCommand<T>(args: readonly string[]): Promise<T> }) =>
  async <T>(operation: string, args: readonly string[]): Promise<T> => {
    try {
      return await client.sendCommand<T>(args);
    } catch (error) {
      throw translateRedisError(error, operation);
    }
  };
