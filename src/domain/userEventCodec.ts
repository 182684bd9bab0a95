import { MalformedEventError } from './errors.ts';
import { CURRENT_SCHEMA_VERSION, isUserEventType, type UserEvent, type UserEventType } from './userEvents.ts';
import { userUpcasters, type JsonObject, type UpcasterRegistry, type VersionedEvent } from './upcasters.ts';

type FieldKind = 'string' | 'boolean';

// Required fields of each current version: a stored event missing one is malformed (poison), not a user.
const REQUIRED_FIELDS: Record<UserEventType, Record<string, FieldKind>> = {
  UserRegistered: { userId: 'string', email: 'string', displayName: 'string', registeredAt: 'string' },
  EmailChanged: { userId: 'string', email: 'string', changedAt: 'string', verified: 'boolean' },
  EmailVerified: { userId: 'string', email: 'string', verifiedAt: 'string' },
  UserSuspended: { userId: 'string', reason: 'string', suspendedAt: 'string' },
  UserReactivated: { userId: 'string', reactivatedAt: 'string' },
};

/**
 * Stored form → domain event: upcast to the current version, then check the shape. Everything
 * that reads user events goes through here, so every reader sees the same current schema.
 */
export const decodeUserEvent = (stored: VersionedEvent, registry: UpcasterRegistry = userUpcasters): UserEvent => {
  if (!isUserEventType(stored.type)) throw new MalformedEventError(`unknown user event type ${stored.type}`, [{ path: 'type', message: 'unknown' }]);
  const current = registry.upcast(stored, CURRENT_SCHEMA_VERSION[stored.type]);
  const fields = REQUIRED_FIELDS[stored.type];
  const issues = Object.entries(fields)
    .filter(([name, kind]) => typeof current.data[name] !== kind)
    .map(([name, kind]) => ({ path: `data.${name}`, message: `must be a ${kind}` }));
  if (issues.length > 0) throw new MalformedEventError(`${stored.type} v${stored.schemaVersion} is malformed`, issues);
  return { type: stored.type, data: current.data } as UserEvent;
};

/** Domain event → stored form at its current schema version. */
export const encodeUserEvent = (event: UserEvent): VersionedEvent => ({
  type: event.type,
  schemaVersion: CURRENT_SCHEMA_VERSION[event.type],
  data: { ...event.data } as JsonObject,
});
