import { NotFoundError } from '#domain/errors';
import { isErased, isRegistered, type RegisteredUser } from '#domain/userState';
import { historyOf, type HistoryItem } from './getUserHistory.ts';
import { loadUserStream, type UserStreamDeps } from './userStream.ts';

/**
 * The right of access: every piece of personal data Chronicle holds about a user, in one
 * document. The current view is folded from the log (the source of truth, not a read model that
 * may lag), and the history is the full decrypted audit trail with times and actors. Read models
 * hold nothing the log does not, and reservation streams hold only the user id under a hash of
 * the address.
 */
export interface UserExport {
  readonly userId: string;
  readonly exportedAt: string;
  readonly erased: boolean;
  /** Null once erased. */
  readonly current: Omit<RegisteredUser, 'userId'> | null;
  readonly history: HistoryItem[];
}

export const exportUser = async (deps: UserStreamDeps, userId: string, now: Date): Promise<UserExport> => {
  const stream = await loadUserStream(deps, userId);
  if (stream.stored.length === 0) throw new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, { userId });
  const { state } = stream;
  const current = isRegistered(state)
    ? { status: state.status, email: state.email, emailVerified: state.emailVerified, displayName: state.displayName, registeredAt: state.registeredAt }
    : null;
  return { userId, exportedAt: now.toISOString(), erased: isErased(state), current, history: historyOf(stream) };
};
