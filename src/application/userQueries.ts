import { NotFoundError } from '#domain/errors';
import type { UserStatus } from '#domain/userState';
import type { ReadModelReader, UserPage, UserView } from '#ports/readModels';
import { waitForReadModel, type ConsistencyWait } from './waitForReadModel.ts';

export interface QueryDeps extends ConsistencyWait {
  readonly readModels: ReadModelReader;
}

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
  const read = async () => {
    const checkpoint = token === undefined ? null : await deps.readModels.getCheckpoint();
    return { checkpoint, user: await deps.readModels.getUser(userId) };
  };
  const { value, stale } = await waitForReadModel(
    token === undefined ? { ...deps, consistencyWaitMs: 0 } : deps,
    read,
    ({ checkpoint, user }) => token === undefined || (user !== null && user.position >= token) || (checkpoint !== null && checkpoint >= token),
  );
  if (value.user === null) throw new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, stale ? { userId, stale } : { userId });
  return { user: value.user, stale };
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
      : await waitForReadModel(deps, () => deps.readModels.getCheckpoint(), (checkpoint) => checkpoint !== null && checkpoint >= token);
  const page = await deps.readModels.listUsers({
    limit: options.limit,
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  });
  return { page, stale };
};
