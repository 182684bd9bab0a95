import { isUnavailableError, NotFoundError } from '#domain/errors';
import { userErasedError } from '#domain/userCommands';
import type { UserStatus } from '#domain/userState';
import { userStreamId } from '#domain/userValues';
import type { ReadModelReader, UserPage, UserView } from '#ports/readModels';
import { retryWithBackoff, type BackoffPolicy } from './retryWithBackoff.ts';
import { waitForReadModel, type ConsistencyWait } from './waitForReadModel.ts';

export interface QueryDeps extends ConsistencyWait {
  readonly readModels: ReadModelReader;
  /** Retries of a read that found the store unavailable (a connection that died while a Lambda was frozen). */
  readonly readRetry?: BackoffPolicy;
}

// A thawed Lambda's first read may hit a dead connection; the client reconnects within its socket
// timeout, so a short bounded retry turns that into a slower answer instead of a 503.
const DEFAULT_READ_RETRY: BackoffPolicy = { baseDelayMs: 20, maxDelayMs: 250, maxElapsedMs: 5_000, maxAttempts: 5 };

const withReadRetry = <T>(deps: QueryDeps, read: () => Promise<T>): Promise<T> =>
  retryWithBackoff(read, deps.readRetry ?? DEFAULT_READ_RETRY, { isTransient: isUnavailableError });

export interface ConsistencyOptions {
  /** A command's consistency token (global position): answer only once the read model includes it, or say it is stale. */
  readonly consistentWith?: bigint;
}

export interface UserAnswer {
  readonly user: UserView;
  /** The wait for the consistency token timed out: the view may predate the caller's write. */
  readonly stale: boolean;
}

export const getUser = async (deps: QueryDeps, userId: string, options: ConsistencyOptions = {}): Promise<UserAnswer> => {
  const token = options.consistentWith;
  // Checkpoint before view: a checkpoint at or past the token guarantees the view read after it includes the token.
  const read = () =>
    withReadRetry(deps, async () => {
      const checkpoint = token === undefined ? null : await deps.readModels.getCheckpoint();
      const [user, held] = await Promise.all([deps.readModels.getUser(userId), deps.readModels.getHeldStream(userStreamId(userId))]);
      return { checkpoint, user, held: held !== null };
    });
  const { value, stale } = await waitForReadModel(
    token === undefined ? { ...deps, consistencyWaitMs: 0 } : deps,
    read,
    ({ checkpoint, user }) => token === undefined || (user !== null && user.position >= token) || (checkpoint !== null && checkpoint >= token),
  );
  // A stream held behind a parked event is missing its later events, whatever the checkpoint says.
  const behind = stale || value.held;
  if (value.user === null && (await withReadRetry(deps, () => deps.readModels.isUserErased(userId)))) throw userErasedError(userId);
  if (value.user === null) throw new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, behind ? { userId, stale: true } : { userId });
  return { user: value.user, stale: behind };
};

export interface ListUsersOptions extends ConsistencyOptions {
  readonly status?: UserStatus;
  readonly cursor?: string | null;
  readonly limit: number;
}

export interface UserPageAnswer {
  readonly page: UserPage;
  readonly stale: boolean;
}

export const listUsers = async (deps: QueryDeps, options: ListUsersOptions): Promise<UserPageAnswer> => {
  const token = options.consistentWith;
  const { stale } =
    token === undefined
      ? { stale: false }
      : await waitForReadModel(deps, () => withReadRetry(deps, () => deps.readModels.getCheckpoint()), (checkpoint) => checkpoint !== null && checkpoint >= token);
  const page = await withReadRetry(deps, () =>
    deps.readModels.listUsers({
      limit: options.limit,
      ...(options.status === undefined ? {} : { status: options.status }),
      ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
    }),
  );
  return { page, stale };
};
