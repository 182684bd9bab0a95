import { sealingContext, type PersonalDataKey } from './personalData.ts';
import { CURRENT_SCHEMA_VERSION } from './userEvents.ts';
import type { RegisteredUser } from './userState.ts';

/**
 * Bump when `UserState`'s shape or what `evolveUser` makes of an event changes: snapshots folded
 * by the old code are then ignored (and replaced) rather than trusted.
 */
const STATE_SCHEMA = 1;

/**
 * What a snapshot was folded with: the state schema and every event type's current version, so
 * a new upcaster (an event version bump) retires old snapshots without anyone remembering to.
 */
export const USER_SNAPSHOT_FORMAT = `user-state.${STATE_SCHEMA};${Object.entries(CURRENT_SCHEMA_VERSION)
  .map(([type, version]) => `${type}.${version}`)
  .join(',')}`;

/** What a user snapshot holds once opened. */
export interface UserSnapshotContent {
  /** The folded state at the snapshot's revision (only registered users are snapshotted). */
  readonly state: RegisteredUser;
  /**
   * Tags (eventTag) of the ids of the stream's last events up to the snapshot's revision, oldest
   * first: how a retried command is recognised. A tag shared by two ids only costs a full load.
   */
  readonly recentEventTags: readonly string[];
}

/** An event id shortened for a snapshot: 48 bits of it, a third of the bytes (ids are UUIDs, v5 for commands' events). */
export const eventTag = (eventId: string): string => eventId.replace(/-/g, '').slice(0, 12);

/** Where the snapshot sits: bound into the seal, so a payload cannot be moved to another stream, revision or format. */
export interface UserSnapshotPlace {
  readonly streamId: string;
  readonly revision: bigint;
  readonly eventId: string;
  readonly format: string;
}

// No event type contains '@', so a snapshot's context never equals an event's.
const contextOf = (place: UserSnapshotPlace): string => sealingContext(place.streamId, `snapshot@${place.revision}/${place.eventId}/${place.format}`);

/**
 * Content → payload: the whole content (state and event ids) is sealed with the user's data key
 * through the same seal as events' personal fields, so destroying the key (erasure) makes every
 * snapshot of the user unreadable, wherever copies of it linger.
 */
export const sealUserSnapshot = (content: UserSnapshotContent, key: PersonalDataKey, place: UserSnapshotPlace): string =>
  key.seal(JSON.stringify(content), contextOf(place));

const isString = (value: unknown): value is string => typeof value === 'string';

const asRegisteredUser = (value: unknown): RegisteredUser | null => {
  if (typeof value !== 'object' || value === null) return null;
  const { status, userId, email, emailVerified, displayName, registeredAt } = value as Record<string, unknown>;
  if (status !== 'active' && status !== 'suspended') return null;
  if (!isString(userId) || !isString(email) || typeof emailVerified !== 'boolean' || !isString(displayName) || !isString(registeredAt)) return null;
  return { status, userId, email, emailVerified, displayName, registeredAt };
};

/**
 * Payload → content, or null when it cannot be trusted: another format, a seal that does not
 * open with this key in this place (altered, moved, or sealed with a destroyed key), or a shape
 * that is not a registered user's. Null means "fold the stream from its start".
 */
export const openUserSnapshot = (payload: string, key: PersonalDataKey, place: UserSnapshotPlace): UserSnapshotContent | null => {
  if (place.format !== USER_SNAPSHOT_FORMAT) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(key.open(payload, contextOf(place)));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { state, recentEventTags } = parsed as Record<string, unknown>;
  const registered = asRegisteredUser(state);
  if (registered === null || !Array.isArray(recentEventTags) || !recentEventTags.every(isString)) return null;
  return { state: registered, recentEventTags };
};
