import { callerScopedKey } from '#application/principal';
import { commandEventId } from '#application/eventIds';
import type { KeyLookup } from '#application/userProjection';
import { isRegistered } from '#domain/userState';
import { userIdFromStreamId, userStreamId } from '#domain/userValues';
import { decodeStoredUserEvent, stateOf } from '#application/userStream';
import type { EventStore, StoredEvent } from '#ports/eventStore';
import type { SentCommand } from './soakClients.ts';

export interface LogCheck {
  readonly eventsLost: number;
  readonly eventsDuplicated: number;
  readonly unacknowledgedPresent: number;
  readonly emailsHeldTwice: number;
  readonly userEvents: number;
  readonly details: string[];
}

export const readUserLog = async (eventStore: EventStore): Promise<StoredEvent[]> => {
  const events: StoredEvent[] = [];
  for (let from = 0n; ; ) {
    const page = await eventStore.readAll({ fromPosition: from, maxCount: 2000, streamPrefixes: ['user-'] });
    const last = page.at(-1);
    if (last === undefined) return events;
    events.push(...page);
    from = last.position + 1n;
  }
};

/**
 * The log against the clients' own record: every acknowledged command is in it exactly once,
 * an unacknowledged one at most once, and no address belongs to two users.
 */
export const checkLog = (events: readonly StoredEvent[], commands: readonly SentCommand[], issuer: string, keyOf: KeyLookup): LogCheck => {
  const details: string[] = [];
  const byId = new Map<string, number>();
  for (const event of events) byId.set(event.id, (byId.get(event.id) ?? 0) + 1);
  const byCommand = new Map<string, number>();
  for (const event of events) {
    const key = `${event.streamId}/${String(event.metadata['commandId'])}`;
    byCommand.set(key, (byCommand.get(key) ?? 0) + 1);
  }
  let eventsLost = 0;
  let unacknowledgedPresent = 0;
  let eventsDuplicated = [...byId.values()].filter((n) => n > 1).length + [...byCommand.values()].filter((n) => n > 1).length;
  for (const command of commands) {
    const commandId = callerScopedKey({ issuer, subject: command.callerSubject }, command.key);
    const count = byId.get(commandEventId(commandId, userStreamId(command.userId), 0)) ?? 0;
    if (command.acknowledged && count !== 1) {
      eventsLost += count === 0 ? 1 : 0;
      details.push(`${command.type} ${command.userId} acknowledged, found ${count} times`);
    }
    if (!command.acknowledged && count > 1) eventsDuplicated++;
    if (!command.acknowledged && count === 1) unacknowledgedPresent++;
  }
  const streams = new Map<string, StoredEvent[]>();
  for (const event of events) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event]);
  const holders = new Map<string, string[]>();
  for (const [streamId, stream] of streams) {
    const userId = userIdFromStreamId(streamId);
    const state = stateOf(userId, stream.map((event) => decodeStoredUserEvent(event, keyOf(userId))));
    if (isRegistered(state)) holders.set(state.email, [...(holders.get(state.email) ?? []), streamId]);
  }
  const shared = [...holders.entries()].filter(([, owners]) => owners.length > 1);
  for (const [email, owners] of shared) details.push(`${email} held by ${owners.join(', ')}`);
  return { eventsLost, eventsDuplicated, unacknowledgedPresent, emailsHeldTwice: shared.length, userEvents: events.length, details };
};
