import type { EraseUser } from '#domain/userCommands';
import { isErased, isRegistered } from '#domain/userState';
import type { DecodedUserEvent } from '#domain/userEventCodec';
import { evolveUser, initialUserState } from '#domain/userState';
import type { CommandOptions, CommandResult } from './commandOptions.ts';
import { releasePreviousEmail } from './emailReservations.ts';
import { handleUserCommand, type CommandDeps } from './handleUserCommand.ts';
import { loadUserStream } from './userStream.ts';

/**
 * The right to erasure, in an order that survives a crash at any step, because each step is
 * idempotent and the next attempt (the same request again) redoes whatever is left:
 *
 * 1. append `UserErased` (no personal data) — from here on every command answers 410 and the
 *    projector removes the user from every read model;
 * 2. release the email reservation, so the address can be registered again — this needs the
 *    address, so it must come before step 3;
 * 3. destroy the data key: every personal field ever stored for the user is now unreadable.
 *
 * A racing command either lands before `UserErased` (and its effects are erased with the rest)
 * or conflicts with it and is then refused as erased.
 */
export const eraseUser = async (deps: CommandDeps, command: EraseUser, options: CommandOptions): Promise<CommandResult> => {
  const result = await handleUserCommand(deps, command, options);
  await finishErasure(deps, command, options);
  return result;
};

/** Steps 2 and 3, for an erased user. Nothing to do once the key is destroyed (step 2 came first). */
const finishErasure = async (deps: CommandDeps, command: EraseUser, options: CommandOptions): Promise<void> => {
  const { userId } = command.data;
  const stream = await loadUserStream(deps, userId);
  if (!isErased(stream.state)) return;
  const email = addressBeforeErasure(stream.decoded);
  // As when a user moves to another address: freed unless a command still in flight claimed it
  // (that command then fails against UserErased and gives its own claim back).
  if (email !== null) await releasePreviousEmail(deps, email, userId, command.metadata.now, options);
  await deps.keys.destroy(userId);
};

/** The address the user held when erased, or null once it can no longer be read (key destroyed). */
const addressBeforeErasure = (decoded: readonly DecodedUserEvent[]): string | null => {
  let state = initialUserState();
  for (const item of decoded) {
    if (item.shredded) return null;
    if (item.event.type === 'UserErased') break;
    state = evolveUser(state, item.event);
  }
  return isRegistered(state) ? state.email : null;
};
