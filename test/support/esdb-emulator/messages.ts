import { parse as parseUuidBytes, stringify as stringifyUuidBytes } from 'uuid';
import type { EventLog, ProposedEvent, RecordedEntry } from './eventLog.ts';
import { persistentPb, sharedPb, streamsPb } from './protos.ts';

type StreamIdentifier = InstanceType<typeof sharedPb.StreamIdentifier>;
type Uuid = InstanceType<typeof sharedPb.UUID>;

/** An event as a reader receives it: the event, and the `$>` link it was reached through, if any. */
export interface ResolvedEntry {
  readonly event: RecordedEntry | undefined;
  readonly link: RecordedEntry | undefined;
}

/** The record that stands for a resolved event in `$all` and in acks: the link when there is one. */
export const originalOf = (resolved: ResolvedEntry): RecordedEntry => (resolved.link ?? resolved.event) as RecordedEntry;

export const resolve = (log: EventLog, entry: RecordedEntry, resolveLinks: boolean): ResolvedEntry =>
  resolveLinks && entry.type === '$>' ? { event: log.resolveLink(entry), link: entry } : { event: entry, link: undefined };

export const streamIdentifier = (name: string): StreamIdentifier => new sharedPb.StreamIdentifier().setStreamName(Buffer.from(name, 'utf8'));

export const streamNameOf = (identifier: StreamIdentifier | undefined): string =>
  identifier === undefined ? '' : Buffer.from(identifier.getStreamName_asU8()).toString('utf8');

/** The client asks for string UUIDs; structured ones are accepted on the way in all the same. */
export const uuidMessage = (id: string): Uuid => new sharedPb.UUID().setString(id);

export const uuidOf = (uuid: Uuid | undefined): string => {
  if (uuid === undefined) return '';
  if (!uuid.hasStructured()) return uuid.getString();
  const structured = uuid.getStructured();
  const bytes = Buffer.alloc(16);
  bytes.writeBigInt64BE(BigInt(structured?.getMostSignificantBits() ?? '0'), 0);
  bytes.writeBigInt64BE(BigInt(structured?.getLeastSignificantBits() ?? '0'), 8);
  return stringifyUuidBytes(bytes);
};

export const isUuid = (id: string): boolean => {
  try {
    parseUuidBytes(id);
    return true;
  } catch {
    return false;
  }
};

interface ProposedMessageLike {
  getId(): Uuid | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

/** A proposed event without one of the metadata properties the server requires. */
export interface MissingMetadata {
  readonly missing: 'type' | 'content-type';
}

/** Missing `type` or `content-type` answers which: the caller reports missing-required-metadata. */
export const proposedEventOf = (message: ProposedMessageLike): ProposedEvent | MissingMetadata => {
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  const contentType = metadata.get('content-type');
  if (type === undefined) return { missing: 'type' };
  if (contentType === undefined) return { missing: 'content-type' };
  return {
    id: uuidOf(message.getId()) || crypto.randomUUID(),
    type,
    contentType,
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
};

interface RecordedEventLike {
  setId(value: Uuid): unknown;
  setStreamIdentifier(value: StreamIdentifier): unknown;
  setStreamRevision(value: string): unknown;
  setPreparePosition(value: string): unknown;
  setCommitPosition(value: string): unknown;
  getMetadataMap(): { set(key: string, value: string): unknown };
  setCustomMetadata(value: Uint8Array): unknown;
  setData(value: Uint8Array): unknown;
}

const fillRecordedEvent = <T extends RecordedEventLike>(message: T, entry: RecordedEntry): T => {
  message.setId(uuidMessage(entry.id));
  message.setStreamIdentifier(streamIdentifier(entry.streamId));
  message.setStreamRevision(entry.revision.toString());
  message.setPreparePosition(entry.position.toString());
  message.setCommitPosition(entry.position.toString());
  const metadata = message.getMetadataMap();
  metadata.set('type', entry.type);
  metadata.set('content-type', entry.contentType);
  metadata.set('created', entry.created.toString());
  message.setCustomMetadata(entry.customMetadata);
  message.setData(entry.data);
  return message;
};

export const streamsReadResponse = (resolved: ResolvedEntry): InstanceType<typeof streamsPb.ReadResp> => {
  const readEvent = new streamsPb.ReadResp.ReadEvent();
  if (resolved.event !== undefined) readEvent.setEvent(fillRecordedEvent(new streamsPb.ReadResp.ReadEvent.RecordedEvent(), resolved.event));
  if (resolved.link !== undefined) readEvent.setLink(fillRecordedEvent(new streamsPb.ReadResp.ReadEvent.RecordedEvent(), resolved.link));
  readEvent.setCommitPosition(originalOf(resolved).position.toString());
  return new streamsPb.ReadResp().setEvent(readEvent);
};

export const persistentReadResponse = (resolved: ResolvedEntry, retryCount: number): InstanceType<typeof persistentPb.ReadResp> => {
  const readEvent = new persistentPb.ReadResp.ReadEvent();
  if (resolved.event !== undefined) readEvent.setEvent(fillRecordedEvent(new persistentPb.ReadResp.ReadEvent.RecordedEvent(), resolved.event));
  if (resolved.link !== undefined) readEvent.setLink(fillRecordedEvent(new persistentPb.ReadResp.ReadEvent.RecordedEvent(), resolved.link));
  readEvent.setCommitPosition(originalOf(resolved).position.toString());
  readEvent.setRetryCount(retryCount);
  return new persistentPb.ReadResp().setEvent(readEvent);
};
