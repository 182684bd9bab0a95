import { IdempotencyKeyReusedError, isConcurrencyError, NotFoundError, PreconditionFailedError } from '#domain/errors';
import { encodeUserEvent } from '#domain/userEventCodec';
import type { UserCommand, UserCommandType } from '#domain/userCommands';
import { userDecider } from '#domain/userCommands';
import type { UserEvent, UserEventType } from '#domain/userEvents';
import { isRegistered, type UserState } from '#domain/userState';
import { userStreamId } from '#domain/userValues';
import type { EventStore, NewEvent } from '#ports/eventStore';
import { PERSONAL_FIELDS } from '#domain/personalData';
import { eventMetadata, type CommandOptions, type CommandResult } from './commandOptions.ts';
import { releaseOwnReservation, releasePreviousEmail, reserveEmail, type ReservationStreamNaming } from './emailReservations.ts';
import { commandEventId } from './eventIds.ts';
import { retryWithBackoff } from './retryWithBackoff.ts';
import type { UserKeys } from './userKeys.ts';
import { loadUserStreamForCommand, snapshotAfterAppend, snapshotCovers, type UserSnapshotSettings } from './userSnapshots.ts';
import { expectedRevisionOf, loadUserStream, type LoadedUserStream } from './userStream.ts';

export interface CommandDeps {
  readonly eventStore: EventStore;
  /** Users' data keys: personal fields are sealed with them before anything is appended. */
  readonly keys: UserKeys;
  /** Names email reservation streams (a keyed hash of the address). */
  readonly reservationStreamOf: ReservationStreamNaming;
  /** Attempts of a command whose append lost a concurrency race (config.http.commandMaxAttempts). */
  readonly maxAttempts: number;
  /** Snapshots of long streams (absent: every command folds the user's stream from its start). */
  readonly snapshots?: UserSnapshotSettings;
  /**
   * Told when a reservation clean-up (compensating release, or freeing the previous address)
   * could not be written. The command's own outcome stands; the address stays held until
   * someone releases it, which is safe (never two owners) but worth an alert.
   */
  readonly onReservationCleanupFailed?: (error: unknown, context: { readonly userId: string; readonly commandId: string; readonly step: string }) => void;
}

/** Addresses a command's events claim and give up (uniqueness across users). */
interface EmailEffects {
  readonly reserve: string | null;
  /** Freed once the user's own append succeeded. */
  readonly releaseAfter: string | null;
}

// Conflicts between load and append are usually resolved within a few ms; jitter spreads racers apart.
const CONFLICT_BACKOFF = { baseDelayMs: 5, maxDelayMs: 100, maxElapsedMs: 10_000 } as const;

/**
 * 1. load the user's stream  2. decide  3. reserve the email (when one is claimed)
 * 4. append with the revision read  5. compensate or release. A concurrency conflict on the
 * user's stream is retried from 1 (bounded) unless the caller pinned a revision with If-Match.
 */
export const handleUserCommand = async (deps: CommandDeps, command: UserCommand, options: CommandOptions): Promise<CommandResult> => {
  const pinned = options.expectedRevision !== undefined;
  const isUserStreamConflict = (error: unknown): boolean => isConcurrencyError(error) && error.streamId === userStreamId(command.data.userId);
  try {
    return await retryWithBackoff(
      () => attemptUserCommand(deps, command, options),
      { ...CONFLICT_BACKOFF, maxAttempts: deps.maxAttempts },
      { isTransient: (error) => !pinned && isUserStreamConflict(error) },
    );
  } catch (error) {
    if (pinned && isConcurrencyError(error) && isUserStreamConflict(error))
      throw new PreconditionFailedError(`user ${command.data.userId} changed while the command ran`, {
        expectedRevision: String(options.expectedRevision),
        actualRevision: error.actualRevision,
      });
    throw error;
  }
};

const attemptUserCommand = async (deps: CommandDeps, command: UserCommand, options: CommandOptions): Promise<CommandResult> => {
  let stream = await loadUserStreamForCommand(deps, command.data.userId);
  // A retry whose first event the snapshot stands in for: the whole stream says what it answered.
  if (snapshotCovers(stream, commandEventId(options.commandId, stream.streamId, 0))) stream = await loadUserStream(deps, command.data.userId);
  const earlier = earlierOutcome(stream, command, options);
  if (earlier !== null) return earlier;
  options.guard?.(stream.state);
  requireRevision(stream, command.data.userId, options.expectedRevision);
  const events = userDecider.decide(command, stream.state);
  if (events.length === 0) return currentOutcome(stream, command.data.userId);
  return appendWithReservations(deps, command, options, stream, events, emailEffectsOf(events, stream.state));
};

/** The event each command's decision starts with: how a retried command recognises its own first event. */
const FIRST_EVENT_OF: Readonly<Record<UserCommandType, UserEventType>> = {
  RegisterUser: 'UserRegistered',
  ChangeEmail: 'EmailChanged',
  VerifyEmail: 'EmailVerified',
  SuspendUser: 'UserSuspended',
  ReactivateUser: 'UserReactivated',
  EraseUser: 'UserErased',
};

/**
 * The same command id seen again (a retried request with its Idempotency-Key): answer what
 * the first run answered instead of deciding again, which would fail on rules such as
 * USER_ALREADY_REGISTERED. A key that already named a different request (another command, or
 * the same command with another body or target) is refused rather than answered with that
 * other request's result.
 */
const earlierOutcome = (stream: LoadedUserStream, command: UserCommand, options: CommandOptions): CommandResult | null => {
  const idAt = (index: number): string => commandEventId(options.commandId, stream.streamId, index);
  const start = stream.stored.findIndex((event) => event.id === idAt(0));
  if (start < 0) return null;
  let last = stream.stored[start];
  if (last === undefined) return null;
  const fingerprint = last.metadata['requestFingerprint'];
  if (last.type !== FIRST_EVENT_OF[command.type] || (typeof fingerprint === 'string' && options.requestFingerprint !== undefined && fingerprint !== options.requestFingerprint))
    throw new IdempotencyKeyReusedError();
  for (let i = start + 1; stream.stored[i]?.id === idAt(i - start); i++) last = stream.stored[i] ?? last;
  return { id: command.data.userId, revision: last.revision, position: last.position };
};

const requireRevision = (stream: LoadedUserStream, userId: string, expected: bigint | undefined): void => {
  if (expected === undefined || stream.revision === expected) return;
  throw new PreconditionFailedError(`user ${userId} is at revision ${stream.revision ?? 'none'}, If-Match named ${expected}`, {
    expectedRevision: String(expected),
    actualRevision: stream.revision === null ? null : String(stream.revision),
  });
};

const currentOutcome = (stream: LoadedUserStream, userId: string): CommandResult => {
  if (stream.revision === null || stream.position === null) throw new NotFoundError('USER_NOT_FOUND', `user ${userId} does not exist`, { userId });
  return { id: userId, revision: stream.revision, position: stream.position };
};

const emailEffectsOf = (events: readonly UserEvent[], state: UserState): EmailEffects => {
  let effects: EmailEffects = { reserve: null, releaseAfter: null };
  for (const event of events) {
    if (event.type === 'UserRegistered') effects = { reserve: event.data.email, releaseAfter: null };
    if (event.type === 'EmailChanged') effects = { reserve: event.data.email, releaseAfter: isRegistered(state) ? state.email : null };
  }
  return effects;
};

const appendWithReservations = async (
  deps: CommandDeps,
  command: UserCommand,
  options: CommandOptions,
  stream: LoadedUserStream,
  events: readonly UserEvent[],
  emails: EmailEffects,
): Promise<CommandResult> => {
  const userId = command.data.userId;
  const now = command.metadata.now;
  const reservedNow = emails.reserve === null ? false : await reserveEmail(deps, emails.reserve, userId, now, options);
  let result: CommandResult;
  try {
    result = await appendUserEvents(deps, stream, userId, events, options, now);
  } catch (error) {
    if (reservedNow && emails.reserve !== null) await compensateReservation(deps, emails.reserve, userId, now, options);
    throw error;
  }
  const previous = emails.releaseAfter;
  if (previous !== null) await cleanUp(deps, userId, options, 'release-previous', () => releasePreviousEmail(deps, previous, userId, now, options));
  return result;
};

const appendUserEvents = async (
  deps: CommandDeps,
  stream: LoadedUserStream,
  userId: string,
  events: readonly UserEvent[],
  options: CommandOptions,
  now: Date,
): Promise<CommandResult> => {
  // The key is fetched (or created) only when an event carries personal data: UserErased must
  // not bring a destroyed key back, nor need one.
  const key = events.some((event) => PERSONAL_FIELDS[event.type].length > 0) ? (stream.key ?? (await deps.keys.forWriting(userId))) : null;
  const newEvents: NewEvent[] = events.map((event, index) => {
    const encoded = encodeUserEvent(event, key);
    return { id: commandEventId(options.commandId, stream.streamId, index), type: encoded.type, data: encoded.data, metadata: eventMetadata(options, encoded.schemaVersion, now) };
  });
  const appended = await deps.eventStore.appendToStream(stream.streamId, newEvents, { expectedRevision: expectedRevisionOf(stream) });
  await snapshotAfterAppend(deps, stream, { events, ids: newEvents.map((event) => event.id), result: appended, key: key ?? stream.key });
  return { id: userId, revision: appended.nextRevision, position: appended.position };
};

/**
 * The user's append failed after this command claimed the address: give it back, unless the
 * user's stream meanwhile holds that very address (another command of the same user won the
 * race), or another command of the user has claimed it since (it relies on the reservation).
 */
const compensateReservation = async (deps: CommandDeps, email: string, userId: string, now: Date, options: CommandOptions): Promise<void> =>
  cleanUp(deps, userId, options, 'compensating-release', async () => {
    const latest = await loadUserStreamForCommand(deps, userId);
    if (isRegistered(latest.state) && latest.state.email === email) return;
    await releaseOwnReservation(deps, email, userId, now, options);
  });

const cleanUp = async (deps: CommandDeps, userId: string, options: CommandOptions, step: string, run: () => Promise<unknown>): Promise<void> => {
  try {
    await run();
  } catch (error) {
    deps.onReservationCleanupFailed?.(error, { userId, commandId: options.commandId, step });
  }
};
