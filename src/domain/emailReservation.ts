import { assertNever, type Decider } from './decider.ts';
import { ChronicleError } from './errors.ts';
import type { CommandMetadata } from './userCommands.ts';

/**
 * Unique email across users: one reservation stream per normalised address, written with
 * optimistic concurrency before the user's own event. No read model decides uniqueness.
 * The stream holds who owns the address, never the address itself (it is in the stream
 * name only as a hash).
 */
export type EmailReserved = { type: 'EmailReserved'; data: { userId: string; reservedAt: string } };
export type EmailReleased = { type: 'EmailReleased'; data: { userId: string; releasedAt: string } };
export type EmailReservationEvent = EmailReserved | EmailReleased;

export type ReserveEmail = {
  type: 'ReserveEmail';
  /**
   * `orphanedHolder`: the application found that this holder does not use the address and that
   * its reservation has outlived any command that could still complete (a crash between the
   * reservation and the user's own event, or a clean-up that failed): the address is taken over.
   */
  data: { userId: string; orphanedHolder?: string };
  metadata: CommandMetadata;
};
export type ReleaseEmail = { type: 'ReleaseEmail'; data: { userId: string }; metadata: CommandMetadata };
export type EmailReservationCommand = ReserveEmail | ReleaseEmail;

export type EmailReservationState = {
  readonly holder: string | null;
  /** When the current holder reserved the address (ISO 8601), null when free. */
  readonly heldSince: string | null;
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
  initialState: () => ({ holder: null, heldSince: null }),
  evolve: (_state, event) => {
    switch (event.type) {
      case 'EmailReserved':
        return { holder: event.data.userId, heldSince: event.data.reservedAt };
      case 'EmailReleased':
        return { holder: null, heldSince: null };
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    const at = command.metadata.now.toISOString();
    switch (command.type) {
      case 'ReserveEmail':
        if (state.holder === command.data.userId) return []; // already ours: a retried command
        if (state.holder === null) return [{ type: 'EmailReserved', data: { userId: command.data.userId, reservedAt: at } }];
        if (state.holder !== command.data.orphanedHolder) throw new EmailTakenError();
        return [
          { type: 'EmailReleased', data: { userId: state.holder, releasedAt: at } },
          { type: 'EmailReserved', data: { userId: command.data.userId, reservedAt: at } },
        ];
      case 'ReleaseEmail':
        return state.holder === command.data.userId ? [{ type: 'EmailReleased', data: { userId: command.data.userId, releasedAt: at } }] : [];
      default:
        return assertNever(command);
    }
  },
};

export const EMAIL_RESERVATION_STREAM_PREFIX = 'userEmail-';
