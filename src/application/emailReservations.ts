import { createHash } from 'node:crypto';
import { fold } from '#domain/decider';
import {
  EMAIL_RESERVATION_SCHEMA_VERSION,
  EMAIL_RESERVATION_STREAM_PREFIX,
  emailReservationDecider,
  type EmailReservationCommand,
  type EmailReservationEvent,
  type EmailReservationState,
} from '#domain/emailReservation';
import { isConcurrencyError, MalformedEventError } from '#domain/errors';
import { isRegistered } from '#domain/userState';
import type { EventStore, StoredEvent } from '#ports/eventStore';
import { eventMetadata, type CommandOptions } from './commandOptions.ts';
import { reservationEventId } from './eventIds.ts';
import { loadUserStream, type UserStreamDeps } from './userStream.ts';

/** The address appears only hashed: the stream name must not reveal it. Pass a normalised address. */
export const emailReservationStreamId = (normalizedEmail: string): string =>
  `${EMAIL_RESERVATION_STREAM_PREFIX}${createHash('sha256').update(normalizedEmail).digest('hex')}`;

const decodeReservationEvent = (stored: StoredEvent): EmailReservationEvent => {
  const userId = stored.data['userId'];
  if (typeof userId !== 'string') throw new MalformedEventError(`${stored.type} without userId`, [{ path: 'data.userId', message: 'must be a string' }]);
  switch (stored.type) {
    case 'EmailReserved':
      return { type: 'EmailReserved', data: { userId, reservedAt: String(stored.data['reservedAt'] ?? '') } };
    case 'EmailReleased':
      return { type: 'EmailReleased', data: { userId, releasedAt: String(stored.data['releasedAt'] ?? '') } };
    default:
      throw new MalformedEventError(`unknown reservation event type ${stored.type}`, [{ path: 'type', message: 'unknown' }]);
  }
};

interface LoadedReservation {
  readonly state: EmailReservationState;
  readonly revision: bigint | null;
}

const loadReservation = async (eventStore: EventStore, streamId: string): Promise<LoadedReservation> => {
  const stored = await eventStore.readStream(streamId);
  return { state: fold(emailReservationDecider, stored.map(decodeReservationEvent)), revision: stored.at(-1)?.revision ?? null };
};

export interface ReservationDeps {
  readonly eventStore: EventStore;
  /** To read a holder's own stream (its personal fields are sealed). */
  readonly keys: UserStreamDeps['keys'];
  /** Bound on attempts when another writer touched the reservation stream between read and append. */
  readonly maxAttempts: number;
}

type ReservationPurpose = Parameters<typeof reservationEventId>[2];

/**
 * Reads the reservation, decides, appends with the revision read. A conflict means someone
 * else wrote in between: read again and decide again (the second decision is usually
 * EMAIL_TAKEN). Answers whether this call appended anything.
 */
const runReservationCommand = async (
  deps: ReservationDeps,
  email: string,
  commandFor: (state: EmailReservationState) => Promise<EmailReservationCommand>,
  purpose: ReservationPurpose,
  options: CommandOptions,
): Promise<boolean> => {
  const streamId = emailReservationStreamId(email);
  for (let attempt = 1; ; attempt++) {
    const reservation = await loadReservation(deps.eventStore, streamId);
    const command = await commandFor(reservation.state);
    const events = emailReservationDecider.decide(command, reservation.state);
    if (events.length === 0) return false;
    const metadata = eventMetadata(options, EMAIL_RESERVATION_SCHEMA_VERSION, command.metadata.now);
    const newEvents = events.map((event, index) => ({
      id: reservationEventId(options.commandId, streamId, purpose, reservation.revision, index),
      type: event.type,
      data: { ...event.data },
      metadata,
    }));
    try {
      await deps.eventStore.appendToStream(streamId, newEvents, { expectedRevision: reservation.revision ?? 'no_stream' });
      return true;
    } catch (error) {
      if (!isConcurrencyError(error) || attempt >= deps.maxAttempts) throw error;
    }
  }
};

/**
 * Longer than any command can run (the Lambdas time out after 29 s): a reservation this old
 * whose holder does not use the address will never be followed by that user's own event.
 */
export const ORPHANED_RESERVATION_AFTER_MS = 5 * 60_000;

/**
 * The holder, when its reservation is orphaned: a command reserved the address and then died
 * before the user's event (or its compensation) was written, or a user moved on to another
 * address and freeing this one failed. Without this, such an address would be held forever.
 */
const orphanedHolderOf = async (deps: UserStreamDeps, email: string, state: EmailReservationState, now: Date): Promise<string | undefined> => {
  if (state.holder === null || state.heldSince === null) return undefined;
  // An unreadable time is never old enough: taking an address over must be certain.
  if (!(now.getTime() - Date.parse(state.heldSince) >= ORPHANED_RESERVATION_AFTER_MS)) return undefined;
  const holder = await loadUserStream(deps, state.holder);
  return isRegistered(holder.state) && holder.state.email === email ? undefined : state.holder;
};

/**
 * Holds `email` for `userId`, or throws EmailTakenError. Answers true when this call wrote the
 * reservation, false when the user already held it (then it is not this command's to undo).
 */
export const reserveEmail = (deps: ReservationDeps, email: string, userId: string, now: Date, options: CommandOptions): Promise<boolean> =>
  runReservationCommand(
    deps,
    email,
    async (state) => {
      const orphanedHolder = state.holder === null || state.holder === userId ? undefined : await orphanedHolderOf(deps, email, state, now);
      return { type: 'ReserveEmail', data: orphanedHolder === undefined ? { userId } : { userId, orphanedHolder }, metadata: { now } };
    },
    'reserve',
    options,
  );

/** Frees `email` when `userId` holds it; a no-op otherwise. */
export const releaseEmail = (
  deps: ReservationDeps,
  email: string,
  userId: string,
  now: Date,
  options: CommandOptions,
  purpose: 'release' | 'release-previous' = 'release',
): Promise<boolean> => runReservationCommand(deps, email, async () => ({ type: 'ReleaseEmail', data: { userId }, metadata: { now } }), purpose, options);

/** Who holds `email` now (null: free). For tests and diagnostics; commands never decide on it outside the decider. */
export const emailHolder = async (eventStore: EventStore, email: string): Promise<string | null> =>
  (await loadReservation(eventStore, emailReservationStreamId(email))).state.holder;
