import { assertNever } from '#domain/decider';
import { decodeUserEvent } from '#domain/userEventCodec';
import type { UserEvent } from '#domain/userEvents';
import type { StoredEvent } from '#ports/eventStore';
import { schemaVersionOf } from '#ports/eventStore';
import type { ProjectedEvent, ReadModelChange } from '#ports/readModels';

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
    default:
      return assertNever(event);
  }
};

/**
 * Stored event → its effect: upcast and decode, then project. Throws on a malformed event,
 * which the projector treats as poison (parked with the reason).
 */
export const projectStoredEvent = (stored: StoredEvent): ProjectedEvent => ({
  streamId: stored.streamId,
  revision: stored.revision,
  position: stored.position,
  changes: projectUserEvent(decodeUserEvent({ type: stored.type, schemaVersion: schemaVersionOf(stored), data: stored.data })),
});
