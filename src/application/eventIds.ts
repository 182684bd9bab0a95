import { v5 as uuidv5 } from 'uuid';

/**
 * Deterministic ids: the same command always produces the same event ids, so a retried
 * command appends nothing twice (the event store drops ids it already holds at that place).
 * The namespace is fixed forever: changing it would make old commands look new.
 */
const CHRONICLE_NAMESPACE = '6f0d8c2e-4b1a-5e3f-9a7c-2d8e1f4b6a90';

/**
 * Id of the `index`-th event a command appends to `streamId`. The stream is part of the name:
 * EventStoreDB judges ids per stream, the embedded stores across the whole log, so the same
 * key sent for two different users must give two different ids to behave the same on both.
 */
export const commandEventId = (commandId: string, streamId: string, index: number): string =>
  uuidv5(`${commandId}/${streamId}/${index}`, CHRONICLE_NAMESPACE);

/**
 * Id of an event a command appends to an email reservation stream. The revision the stream
 * was at is part of the name: after a compensating release, the same command may reserve
 * the address again, and that must be a new event, not a duplicate of the first one.
 */
export const reservationEventId = (
  commandId: string,
  streamId: string,
  purpose: 'reserve' | 'release' | 'release-previous',
  afterRevision: bigint | null,
  index = 0,
): string => uuidv5(`${commandId}/${streamId}/${purpose}@${afterRevision ?? 'none'}/${index}`, CHRONICLE_NAMESPACE);

/** A new user's id when the caller sent an Idempotency-Key: the retry must land on the same user. */
export const userIdForIdempotencyKey = (idempotencyKey: string): string => uuidv5(`user/${idempotencyKey}`, CHRONICLE_NAMESPACE);
