/** The facts of a user's life, as stored in `user-<id>` streams. Shapes are the current schema versions. */
export type UserRegistered = {
  type: 'UserRegistered';
  data: { userId: string; email: string; displayName: string; registeredAt: string };
};
export type EmailChanged = {
  type: 'EmailChanged';
  data: { userId: string; email: string; changedAt: string; verified: boolean };
};
export type EmailVerified = {
  type: 'EmailVerified';
  data: { userId: string; email: string; verifiedAt: string };
};
export type UserSuspended = {
  type: 'UserSuspended';
  data: { userId: string; reason: string; suspendedAt: string };
};
export type UserReactivated = {
  type: 'UserReactivated';
  data: { userId: string; reactivatedAt: string };
};

/** The user asked to be forgotten: carries no personal data; their data key is destroyed after it. */
export type UserErased = {
  type: 'UserErased';
  data: { userId: string; erasedAt: string };
};

export type UserEvent = UserRegistered | EmailChanged | EmailVerified | UserSuspended | UserReactivated | UserErased;
export type UserEventType = UserEvent['type'];

/** The schema version written for each event type today; older stored versions are upcast on read. */
export const CURRENT_SCHEMA_VERSION = {
  UserRegistered: 1,
  EmailChanged: 2,
  EmailVerified: 1,
  UserSuspended: 1,
  UserReactivated: 1,
  UserErased: 1,
} as const satisfies Record<UserEventType, number>;

export const USER_EVENT_TYPES = Object.keys(CURRENT_SCHEMA_VERSION) as UserEventType[];

export const isUserEventType = (type: string): type is UserEventType => Object.hasOwn(CURRENT_SCHEMA_VERSION, type);
