import { MalformedEventError } from './errors.ts';
import { PERSONAL_FIELDS, SEALED_FIELD, sealingContext, type PersonalDataKey } from './personalData.ts';
import { CURRENT_SCHEMA_VERSION, isUserEventType, type UserEvent, type UserEventType } from './userEvents.ts';
import { userUpcasters, type JsonObject, type UpcasterRegistry, type VersionedEvent } from './upcasters.ts';
import { userStreamId } from './userValues.ts';

type FieldKind = 'string' | 'boolean';

// Required fields of each current version: a stored event missing one is malformed (poison), not a user.
const REQUIRED_FIELDS: Record<UserEventType, Record<string, FieldKind>> = {
  UserRegistered: { userId: 'string', email: 'string', displayName: 'string', registeredAt: 'string' },
  EmailChanged: { userId: 'string', email: 'string', changedAt: 'string', verified: 'boolean' },
  EmailVerified: { userId: 'string', email: 'string', verifiedAt: 'string' },
  UserSuspended: { userId: 'string', reason: 'string', suspendedAt: 'string' },
  UserReactivated: { userId: 'string', reactivatedAt: 'string' },
  UserErased: { userId: 'string', erasedAt: 'string' },
};

/** A stored user event and the stream it sits in (the stream is part of what a seal is bound to). */
export interface StoredUserEvent extends VersionedEvent {
  readonly streamId: string;
}

/**
 * A decoded event: readable, or shredded — its personal fields were sealed with a key that no
 * longer exists, so they read as null and the event cannot be folded or projected as a fact
 * about a person any more.
 */
export type DecodedUserEvent =
  | { readonly shredded: false; readonly event: UserEvent }
  | { readonly shredded: true; readonly type: UserEventType; readonly data: JsonObject };

/** Whether the stored event carries sealed personal fields (events written before encryption do not). */
export const isSealed = (stored: Pick<VersionedEvent, 'data'>): boolean => typeof stored.data[SEALED_FIELD] === 'string';

const openPersonalFields = (stored: StoredUserEvent, key: PersonalDataKey): JsonObject => {
  let personal: unknown;
  try {
    personal = JSON.parse(key.open(stored.data[SEALED_FIELD] as string, sealingContext(stored.streamId, stored.type)));
  } catch {
    throw new MalformedEventError(`${stored.type} in ${stored.streamId}: its personal data does not open with the user's key`, [
      { path: `data.${SEALED_FIELD}`, message: 'does not authenticate' },
    ]);
  }
  if (typeof personal !== 'object' || personal === null || Array.isArray(personal))
    throw new MalformedEventError(`${stored.type}: sealed personal data is not an object`, [{ path: `data.${SEALED_FIELD}`, message: 'must hold an object' }]);
  // A plain copy loop: the projector runs this for most events, and rest/spread copies cost more.
  const data: JsonObject = {};
  for (const name in stored.data) if (name !== SEALED_FIELD) data[name] = stored.data[name];
  for (const name in personal) data[name] = (personal as JsonObject)[name];
  return data;
};

const shreddedData = (type: UserEventType, data: JsonObject): JsonObject => {
  const { [SEALED_FIELD]: _sealed, ...rest } = data;
  return { ...rest, ...Object.fromEntries(PERSONAL_FIELDS[type].map((name) => [name, null])) };
};

/**
 * Stored form → domain event: open the sealed personal fields (`key` null: the user has no key,
 * because it was destroyed or because every event predates encryption), upcast to the current
 * version, then check the shape. Everything that reads user events goes through here, so every
 * reader sees the same current schema. Plaintext events (written before encryption) read as they are.
 */
export const decodeUserEvent = (stored: StoredUserEvent, key: PersonalDataKey | null, registry: UpcasterRegistry = userUpcasters): DecodedUserEvent => {
  if (!isUserEventType(stored.type)) throw new MalformedEventError(`unknown user event type ${stored.type}`, [{ path: 'type', message: 'unknown' }]);
  const type = stored.type;
  if (isSealed(stored) && key === null) return { shredded: true, type, data: shreddedData(type, registry.upcast(stored, CURRENT_SCHEMA_VERSION[type]).data) };
  const data = isSealed(stored) && key !== null ? openPersonalFields(stored, key) : stored.data;
  const current = registry.upcast({ type, schemaVersion: stored.schemaVersion, data }, CURRENT_SCHEMA_VERSION[type]);
  const fields = REQUIRED_FIELDS[type];
  const issues = Object.entries(fields)
    .filter(([name, kind]) => typeof current.data[name] !== kind)
    .map(([name, kind]) => ({ path: `data.${name}`, message: `must be a ${kind}` }));
  if (issues.length > 0) throw new MalformedEventError(`${type} v${stored.schemaVersion} is malformed`, issues);
  return { shredded: false, event: { type, data: current.data } as UserEvent };
};

/**
 * Domain event → stored form at its current schema version, its personal fields sealed with the
 * user's key into one ciphertext bound to the stream and the type. `key` may be null only for
 * events without personal fields.
 */
export const encodeUserEvent = (event: UserEvent, key: PersonalDataKey | null): VersionedEvent => {
  const personalNames = PERSONAL_FIELDS[event.type];
  const data = { ...event.data } as JsonObject;
  if (personalNames.length === 0) return { type: event.type, schemaVersion: CURRENT_SCHEMA_VERSION[event.type], data };
  if (key === null) throw new Error(`${event.type} carries personal data and needs the user's data key`);
  const personal: JsonObject = {};
  for (const name of personalNames) {
    personal[name] = data[name];
    delete data[name];
  }
  data[SEALED_FIELD] = key.seal(JSON.stringify(personal), sealingContext(userStreamId(event.data.userId), event.type));
  return { type: event.type, schemaVersion: CURRENT_SCHEMA_VERSION[event.type], data };
};
