import { assertNever } from './decider.ts';
import type { UserEvent } from './userEvents.ts';

export type UserStatus = 'active' | 'suspended';

export type UserState =
  | { readonly status: 'unregistered' }
  | {
      readonly status: UserStatus;
      readonly userId: string;
      readonly email: string;
      readonly emailVerified: boolean;
      readonly displayName: string;
      readonly registeredAt: string;
    }
  /** Forgotten for good: only the id is left, and nothing can happen to it any more. */
  | { readonly status: 'erased'; readonly userId: string };

export type RegisteredUser = Extract<UserState, { status: UserStatus }>;
export type ErasedUser = Extract<UserState, { status: 'erased' }>;

export const initialUserState = (): UserState => ({ status: 'unregistered' });

export const isRegistered = (state: UserState): state is RegisteredUser => state.status === 'active' || state.status === 'suspended';
export const isErased = (state: UserState): state is ErasedUser => state.status === 'erased';

export const evolveUser = (state: UserState, event: UserEvent): UserState => {
  if (isErased(state)) return state;
  switch (event.type) {
    case 'UserRegistered':
      return {
        status: 'active',
        userId: event.data.userId,
        email: event.data.email,
        emailVerified: false,
        displayName: event.data.displayName,
        registeredAt: event.data.registeredAt,
      };
    case 'EmailChanged':
      return isRegistered(state) ? { ...state, email: event.data.email, emailVerified: event.data.verified } : state;
    case 'EmailVerified':
      return isRegistered(state) && state.email === event.data.email ? { ...state, emailVerified: true } : state;
    case 'UserSuspended':
      return isRegistered(state) ? { ...state, status: 'suspended' } : state;
    case 'UserReactivated':
      return isRegistered(state) ? { ...state, status: 'active' } : state;
    case 'UserErased':
      return { status: 'erased', userId: event.data.userId };
    default:
      return assertNever(event);
  }
};
