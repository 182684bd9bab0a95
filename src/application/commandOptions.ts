import type { UserState } from '#domain/userState';
import type { EventMetadata } from '#ports/eventStore';
import type { Actor } from './principal.ts';

/** Who sent a command and how it relates to others; travels into every event's metadata. */
export interface CommandOptions {
  /** The Idempotency-Key when given, else a fresh id: event ids derive from it. */
  readonly commandId: string;
  readonly correlationId: string;
  /** The message that caused this command; defaults to the command itself. */
  readonly causationId?: string;
  readonly actor?: Actor;
  /** From If-Match: the stream revision the caller saw. A different one answers 412, never a retry. */
  readonly expectedRevision?: bigint;
  /**
   * A keyed digest of what was asked (route, target, body), stored with the events: the same
   * command id with another fingerprint is a reused Idempotency-Key, refused with 422.
   */
  readonly requestFingerprint?: string;
  /** An authorization check that needs the loaded account (e.g. mailbox proof); throws to refuse. */
  readonly guard?: (state: UserState) => void;
}

export const eventMetadata = (options: CommandOptions, schemaVersion: number, occurredAt: Date): EventMetadata => ({
  schemaVersion,
  $correlationId: options.correlationId,
  $causationId: options.causationId ?? options.commandId,
  commandId: options.commandId,
  occurredAt: occurredAt.toISOString(),
  ...(options.actor === undefined ? {} : { actor: { issuer: options.actor.issuer, subject: options.actor.subject } }),
  ...(options.requestFingerprint === undefined ? {} : { requestFingerprint: options.requestFingerprint }),
});

/** What a command answers: the stream revision now (ETag) and the global position (consistency token). */
export interface CommandResult {
  readonly id: string;
  readonly revision: bigint;
  readonly position: bigint;
}
