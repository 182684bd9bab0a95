import { assertNever, type Decider } from './decider.ts';
import { GoneError, NotFoundError, RuleViolatedError } from './errors.ts';
import type { UserEvent } from './userEvents.ts';
import { evolveUser, initialUserState, isErased, isRegistered, type RegisteredUser, type UserState } from './userState.ts';
import { normalizeDisplayName, normalizeEmail, normalizeReason } from './userValues.ts';

/** What every command carries besides its intent: time and identity come from outside the domain. */
export interface CommandMetadata {
  readonly now: Date;
}

type Command<Type extends string, Data> = { readonly type: Type; readonly data: Data; readonly metadata: CommandMetadata };

export type RegisterUser = Command<'RegisterUser', { userId: string; email: string; displayName: string }>;
export type ChangeEmail = Command<'ChangeEmail', { userId: string; email: string }>;
export type VerifyEmail = Command<'VerifyEmail', { userId: string; email: string }>;
export type SuspendUser = Command<'SuspendUser', { userId: string; reason: string }>;
export type ReactivateUser = Command<'ReactivateUser', { userId: string }>;
export type EraseUser = Command<'EraseUser', { userId: string }>;

export type UserCommand = RegisterUser | ChangeEmail | VerifyEmail | SuspendUser | ReactivateUser | EraseUser;
export type UserCommandType = UserCommand['type'];

export const userErasedError = (userId: string): GoneError => new GoneError('USER_ERASED', `user ${userId} was erased`, { userId });

const requireRegistered = (state: UserState, userId: string): RegisteredUser => {
  if (isErased(state)) throw userErasedError(userId);
  if (!isRegistered(state)) throw new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, { userId });
  return state;
};

const requireActive = (state: UserState, userId: string, action: string): RegisteredUser => {
  const user = requireRegistered(state, userId);
  if (user.status === 'suspended')
    throw new RuleViolatedError('USER_SUSPENDED', `user ${userId} is suspended: only reactivation is allowed, not ${action}`, { userId });
  return user;
};

export const decideUser = (command: UserCommand, state: UserState): UserEvent[] => {
  const at = command.metadata.now.toISOString();
  switch (command.type) {
    // Values are checked before the state: bad input is a 400 whatever the user's state.
    case 'RegisterUser': {
      const email = normalizeEmail(command.data.email);
      const displayName = normalizeDisplayName(command.data.displayName);
      if (isErased(state)) throw userErasedError(command.data.userId);
      if (isRegistered(state))
        throw new RuleViolatedError('USER_ALREADY_REGISTERED', `user ${command.data.userId} is already registered`, { userId: command.data.userId });
      return [{ type: 'UserRegistered', data: { userId: command.data.userId, email, displayName, registeredAt: at } }];
    }
    case 'ChangeEmail': {
      const email = normalizeEmail(command.data.email);
      const user = requireActive(state, command.data.userId, 'an email change');
      if (email === user.email) throw new RuleViolatedError('EMAIL_UNCHANGED', 'the new email is the current email', { userId: user.userId });
      return [{ type: 'EmailChanged', data: { userId: user.userId, email, changedAt: at, verified: false } }];
    }
    case 'VerifyEmail': {
      const email = normalizeEmail(command.data.email);
      const user = requireActive(state, command.data.userId, 'email verification');
      if (email !== user.email)
        throw new RuleViolatedError('EMAIL_NOT_CURRENT', 'only the current email can be verified', { userId: user.userId });
      if (user.emailVerified) throw new RuleViolatedError('EMAIL_ALREADY_VERIFIED', 'the current email is already verified', { userId: user.userId });
      return [{ type: 'EmailVerified', data: { userId: user.userId, email, verifiedAt: at } }];
    }
    case 'SuspendUser': {
      const reason = normalizeReason(command.data.reason);
      const user = requireRegistered(state, command.data.userId);
      if (user.status === 'suspended')
        throw new RuleViolatedError('USER_ALREADY_SUSPENDED', `user ${user.userId} is already suspended`, { userId: user.userId });
      return [{ type: 'UserSuspended', data: { userId: user.userId, reason, suspendedAt: at } }];
    }
    case 'ReactivateUser': {
      const user = requireRegistered(state, command.data.userId);
      if (user.status === 'active') throw new RuleViolatedError('USER_NOT_SUSPENDED', `user ${user.userId} is not suspended`, { userId: user.userId });
      return [{ type: 'UserReactivated', data: { userId: user.userId, reactivatedAt: at } }];
    }
    case 'EraseUser': {
      // Erasing again decides nothing: the application still finishes a half-done erasure.
      if (isErased(state)) return [];
      const user = requireRegistered(state, command.data.userId);
      return [{ type: 'UserErased', data: { userId: user.userId, erasedAt: at } }];
    }
    default:
      return assertNever(command);
  }
};

export const userDecider: Decider<UserCommand, UserEvent, UserState> = {
  decide: decideUser,
  evolve: evolveUser,
  initialState: initialUserState,
};
