import { assertNever, type Decider } from './decider.ts';
import { ChronicleError } from './errors.ts';
import type { CommandMetadata } from './userCommands.ts';

/**
 * Unique email across users: one reservation stream per normalised address, written with
 * optimistic concurrency before the user's own event. No read model decides uniqueness.
 * The stream holds who owns the address, never the address itself (it is in the stream
 * name only as a hash).
 */
/**
 * `claim`: the command that wrote the reservation and relies on it until its own event is
 * written. Only that command's failure may undo it (a compensating release), so two commands of
 * one user that want the same address never free it under each other.
 */
export type EmailReserved = { type: 'EmailReserved'; data: { userId: string; reservedAt: string; claim: string } };
export type EmailReleased = { type: 'EmailReleased'; data: { userId: string; releasedAt: string } };
export type EmailReservationEvent = EmailReserved | EmailReleased;

export type ReserveEmail = {
  type: 'ReserveEmail';
  /**
   * `claim`: the command reserving. `inUse`: the user's own stream already holds the address, so
   * nothing in flight needs a claim of its own. `orphanedHolder`: the application found that this
   * holder does not use the address and that its reservation has outlived any command that could
   * still complete (a crash between the reservation and the user's own event, or a clean-up that
   * failed): the address is taken over.
   */
  data: { userId: string; claim: string; inUse: boolean; orphanedHolder?: string };
  metadata: CommandMetadata;
};
/**
 * `claimSettled`: the application found that the command behind the current claim no longer
 * relies on it (it is this very command undoing its own reservation, or it finished and the
 * user has moved on). Otherwise another command of the same user is in flight on this address,
 * and releasing would leave it unprotected.
 */
export type ReleaseEmail = { type: 'ReleaseEmail'; data: { userId: string; claimSettled: boolean }; metadata: CommandMetadata };
export type EmailReservationCommand = ReserveEmail | ReleaseEmail;

export type EmailReservationState = {
  readonly holder: string | null;
  /** When the current holder reserved the address (ISO 8601), null when free. */
  readonly heldSince: string | null;
  /** The command that wrote the current reservation, null when free. */
  readonly claim: string | null;
};

export const EMAIL_RESERVATION_SCHEMA_VERSION = 1;

export class EmailTakenError extends ChronicleError {
  constructor() {
    // No address and no holder in the message: the answer must not leak who owns an email.
    super('conflict', 'EMAIL_TAKEN', 'this email address is already in use by another user');
  }
}

export const isEmailTakenError = (e: unknown): e is EmailTakenError => e instanceof EmailTakenError;

export const emailReservationDecider: Decider<EmailReservationCommand, EmailReservationEvent, EmailReservationState> = {
  initialState: () => ({ holder: null, heldSince: null, claim: null }),
  evolve: (_state, event) => {
    switch (event.type) {
      case 'EmailReserved':
        return { holder: event.data.userId, heldSince: event.data.reservedAt, claim: event.data.claim };
      case 'EmailReleased':
        return { holder: null, heldSince: null, claim: null };
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    const at = command.metadata.now.toISOString();
    switch (command.type) {
      case 'ReserveEmail': {
        const { userId, claim } = command.data;
        const reserved: EmailReserved = { type: 'EmailReserved', data: { userId, reservedAt: at, claim } };
        if (state.holder === null) return [reserved];
        if (state.holder === userId) {
          // Ours already: a retry of this command, or an address the user's stream holds. Another
          // in-flight command of the same user holds it: claim it for this one too, so that the
          // other's compensation cannot free it while this one relies on it.
          return state.claim === claim || command.data.inUse ? [] : [reserved];
        }
        if (state.holder !== command.data.orphanedHolder) throw new EmailTakenError();
        return [{ type: 'EmailReleased', data: { userId: state.holder, releasedAt: at } }, reserved];
      }
      case 'ReleaseEmail':
        return state.holder === command.data.userId && command.data.claimSettled
          ? [{ type: 'EmailReleased', data: { userId: command.data.userId, releasedAt: at } }]
          : [];
      default:
        return assertNever(command);
    }
  },
};

export const EMAIL_RESERVATION_STREAM_PREFIX = 'userEmail-';
