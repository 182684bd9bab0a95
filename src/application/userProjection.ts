import { assertNever } from '#domain/decider';
import { MalformedEventError } from '#domain/errors';
import type { PersonalDataKey } from '#domain/personalData';
import { isSealed, type DecodedUserEvent } from '#domain/userEventCodec';
import type { UserEvent, UserEventType } from '#domain/userEvents';
import { userIdFromStreamId } from '#domain/userValues';
import type { StoredEvent } from '#ports/eventStore';
import type { ProjectedEvent, ReadModelChange } from '#ports/readModels';
import type { UserKeys } from './userKeys.ts';
import { decodeStoredUserEvent } from './userStream.ts';

/** Pure: one user event → the read-model changes it implies. */
export const projectUserEvent = (event: UserEvent): ReadModelChange[] => {
  switch (event.type) {
    case 'UserRegistered':
      return [
        {
          type: 'userCreated',
          user: {
            id: event.data.userId,
            email: event.data.email,
            displayName: event.data.displayName,
            status: 'active',
            emailVerified: false,
            registeredAt: event.data.registeredAt,
          },
        },
      ];
    case 'EmailChanged':
      return [{ type: 'userPatched', userId: event.data.userId, fields: { email: event.data.email, emailVerified: event.data.verified } }];
    case 'EmailVerified':
      return [{ type: 'userPatched', userId: event.data.userId, fields: { emailVerified: true } }];
    case 'UserSuspended':
      return [{ type: 'userPatched', userId: event.data.userId, fields: { status: 'suspended' } }];
    case 'UserReactivated':
      return [{ type: 'userPatched', userId: event.data.userId, fields: { status: 'active' } }];
    case 'UserErased':
      return [{ type: 'userErased', userId: event.data.userId }];
    default:
      return assertNever(event);
  }
};

/**
 * Event types whose read-model changes use personal fields: only these are opened, and only their
 * users' keys fetched. Opening costs an AES-GCM decryption per event (and a key per user), so the
 * others are projected from their non-personal fields alone.
 */
const OPENED_FOR_PROJECTION: ReadonlySet<UserEventType> = new Set<UserEventType>(['UserRegistered', 'EmailChanged']);

const needsOpening = (stored: StoredEvent): boolean => isSealed(stored) && OPENED_FOR_PROJECTION.has(stored.type as UserEventType);

/**
 * An event whose personal fields were not opened: projected from the rest where that is all the
 * projection uses. A registration or an email change that cannot be opened (the user's key is
 * destroyed) changes nothing: the key is destroyed only after `UserErased` is in the stream, and
 * that event, later in the same stream, removes the user.
 */
const projectUnopened = (decoded: Extract<DecodedUserEvent, { shredded: true }>, userId: string): ReadModelChange[] => {
  switch (decoded.type) {
    case 'UserRegistered':
    case 'EmailChanged':
      return [];
    case 'EmailVerified':
      return [{ type: 'userPatched', userId, fields: { emailVerified: true } }];
    case 'UserSuspended':
      return [{ type: 'userPatched', userId, fields: { status: 'suspended' } }];
    case 'UserReactivated':
      return [{ type: 'userPatched', userId, fields: { status: 'active' } }];
    case 'UserErased':
      return [{ type: 'userErased', userId }];
    default:
      return assertNever(decoded.type);
  }
};

/** The keys a projection may use; without any, a sealed event is poison rather than silently dropped. */
export type KeyLookup = (userId: string) => PersonalDataKey | null;

const NO_KEYS: KeyLookup = () => {
  throw new MalformedEventError('this projector has no data keys: it cannot open sealed personal data');
};

/**
 * Stored event → its effect: open, upcast and decode, then project. Throws on a malformed event,
 * which the projector treats as poison (parked with the reason).
 */
export const projectStoredEvent = (stored: StoredEvent, keyOf: KeyLookup = NO_KEYS): ProjectedEvent => {
  const userId = userIdFromStreamId(stored.streamId);
  const decoded = decodeStoredUserEvent(stored, needsOpening(stored) ? keyOf(userId) : null);
  return {
    streamId: stored.streamId,
    revision: stored.revision,
    position: stored.position,
    changes: decoded.shredded ? projectUnopened(decoded, userId) : projectUserEvent(decoded.event),
  };
};

/**
 * The projector's per-batch step: the keys of every user with a sealed event in the batch,
 * fetched in one call (once per user per batch, through the bounded cache), then a synchronous
 * projection of each event.
 */
export const userBatchProjection =
  (keys: Pick<UserKeys, 'forReading' | 'forget'>) =>
  async (events: readonly StoredEvent[]): Promise<(event: StoredEvent) => ProjectedEvent> => {
    const userIds = new Set<string>();
    for (const event of events) if (needsOpening(event)) userIds.add(userIdFromStreamId(event.streamId));
    const found = userIds.size === 0 ? new Map<string, PersonalDataKey | null>() : await keys.forReading([...userIds]);
    // An erased user's key leaves the cache now rather than at its expiry (this batch keeps what it fetched).
    for (const event of events) if (event.type === 'UserErased') keys.forget(userIdFromStreamId(event.streamId));
    const keyOf: KeyLookup = (userId) => found.get(userId) ?? null;
    return (event) => projectStoredEvent(event, keyOf);
  };
