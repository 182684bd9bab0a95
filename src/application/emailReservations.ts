import { createHmac } from 'node:crypto';
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
import { commandEventId, reservationEventId } from './eventIds.ts';
import { loadUserStreamForCommand, snapshotCovers } from './userSnapshots.ts';
import { loadUserStream, type LoadedUserStream, type UserStreamDeps } from './userStream.ts';

/** Names the reservation stream of a normalised address. */
export type ReservationStreamNaming = (normalizedEmail: string) => string;

/**
 * The address appears only as a keyed hash (HMAC-SHA256 under a server secret): a bare hash of
 * an email is reversed by hashing a list of addresses, so the stream name must not be one. The
 * key is fixed for the life of the data: another key names other streams, and uniqueness would
 * no longer see the addresses reserved under the first.
 */
export const createReservationStreamNaming =
  (key: string): ReservationStreamNaming =>
  (normalizedEmail) =>
    `${EMAIL_RESERVATION_STREAM_PREFIX}${createHmac('sha256', key).update(normalizedEmail).digest('hex')}`;

const decodeReservationEvent = (stored: StoredEvent): EmailReservationEvent => {
  const userId = stored.data['userId'];
  if (typeof userId !== 'string') throw new MalformedEventError(`${stored.type} without userId`, [{ path: 'data.userId', message: 'must be a string' }]);
  switch (stored.type) {
    case 'EmailReserved': {
      // Reservations written before claims existed name their command only in the metadata.
      const claim = stored.data['claim'] ?? stored.metadata['commandId'];
      return { type: 'EmailReserved', data: { userId, reservedAt: String(stored.data['reservedAt'] ?? ''), claim: typeof claim === 'string' ? claim : '' } };
    }
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
  readonly reservationStreamOf: ReservationStreamNaming;
  /** To read a holder's own stream (its personal fields are sealed). */
  readonly keys: UserStreamDeps['keys'];
  /** To load that stream from its snapshot when it is long. */
  readonly snapshots?: UserStreamDeps['snapshots'];
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
  const streamId = deps.reservationStreamOf(email);
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
  const holder = await loadUserStreamForCommand(deps, state.holder);
  return isRegistered(holder.state) && holder.state.email === email ? undefined : state.holder;
};

/**
 * Holds `email` for `userId` under this command's claim, or throws EmailTakenError. Answers
 * whether this command's claim holds it now (then undoing it on failure is this command's job),
 * false when the user's own stream already holds the address and nothing needed claiming.
 */
export const reserveEmail = async (deps: ReservationDeps, email: string, userId: string, now: Date, options: CommandOptions): Promise<boolean> => {
  let inUse = false;
  await runReservationCommand(
    deps,
    email,
    async (state) => {
      const orphanedHolder = state.holder === null || state.holder === userId ? undefined : await orphanedHolderOf(deps, email, state, now);
      inUse = state.holder === userId && state.claim !== options.commandId && (await userUses(deps, userId, email));
      const data = { userId, claim: options.commandId, inUse };
      return { type: 'ReserveEmail', data: orphanedHolder === undefined ? data : { ...data, orphanedHolder }, metadata: { now } };
    },
    'reserve',
    options,
  );
  return !inUse;
};

const userUses = async (deps: UserStreamDeps, userId: string, email: string): Promise<boolean> => {
  const user = await loadUserStreamForCommand(deps, userId);
  return isRegistered(user.state) && user.state.email === email;
};

/**
 * Whether the command behind the current claim is done with it: it finished (its first event is
 * in the user's stream), its claim is so old that it can no longer finish, or it predates claims.
 */
const claimSettled = async (deps: UserStreamDeps, userId: string, user: LoadedUserStream, state: EmailReservationState, now: Date): Promise<boolean> => {
  if (state.claim === null || state.claim === '') return true;
  if (state.heldSince !== null && now.getTime() - Date.parse(state.heldSince) >= ORPHANED_RESERVATION_AFTER_MS) return true;
  const firstEventId = commandEventId(state.claim, user.streamId, 0);
  if (user.stored.some((event) => event.id === firstEventId) || snapshotCovers(user, firstEventId)) return true;
  // Past what the snapshot remembers: only the whole stream can tell.
  return user.snapshot !== null && (await loadUserStream(deps, userId)).stored.some((event) => event.id === firstEventId);
};

/**
 * Undoes this command's own reservation after its user append failed: only while the claim is
 * still this command's, so another in-flight command of the same user that claimed the address
 * since keeps it.
 */
export const releaseOwnReservation = (deps: ReservationDeps, email: string, userId: string, now: Date, options: CommandOptions): Promise<boolean> =>
  runReservationCommand(
    deps,
    email,
    async (state) => ({ type: 'ReleaseEmail', data: { userId, claimSettled: state.claim === options.commandId }, metadata: { now } }),
    'release',
    options,
  );

/**
 * Frees the address a user moved away from — unless a command of that user still in flight has
 * claimed it again (the user is changing back to it).
 */
export const releasePreviousEmail = (deps: ReservationDeps, email: string, userId: string, now: Date, options: CommandOptions): Promise<boolean> =>
  runReservationCommand(
    deps,
    email,
    async (state) => {
      // One read of the user's stream answers both: does it still use the address, and is the claim's command done.
      const user = state.holder === userId ? await loadUserStreamForCommand(deps, userId) : null;
      const settled = user !== null && !(isRegistered(user.state) && user.state.email === email) && (await claimSettled(deps, userId, user, state, now));
      return { type: 'ReleaseEmail', data: { userId, claimSettled: settled }, metadata: { now } };
    },
    'release-previous',
    options,
  );

/** Who holds `email` now (null: free). For tests and diagnostics; commands never decide on it outside the decider. */
export const emailHolder = async (deps: Pick<ReservationDeps, 'eventStore' | 'reservationStreamOf'>, email: string): Promise<string | null> =>
  (await loadReservation(deps.eventStore, deps.reservationStreamOf(email))).state.holder;
