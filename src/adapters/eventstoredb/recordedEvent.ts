import type { JsonObject } from '#domain/upcasters';
import type { StoredEvent } from '#ports/eventStore';

/**
 * Revisions and positions are bigint in the client's typings, but some client versions hand
 * back `number` at run time (KurrentDB-Client-NodeJS #423, #513): accept every spelling.
 */
export type Int64Like = bigint | number | string;

export const toBigInt = (value: Int64Like): bigint => (typeof value === 'bigint' ? value : BigInt(value));

/** The parts of the client's RecordedEvent that Chronicle reads (structural, so no generics leak). */
export interface RecordedEventLike {
  readonly id: string;
  readonly streamId: string;
  readonly type: string;
  readonly revision: Int64Like;
  readonly created: Date;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: { readonly commit: Int64Like; readonly prepare: Int64Like } | undefined;
}

const decoder = new TextDecoder();

/** Chronicle writes JSON objects only; anything else (binary, arrays, scalars) reads as {}. */
const asJsonObject = (value: unknown): JsonObject => {
  let parsed = value;
  if (value instanceof Uint8Array) {
    if (value.length === 0) return {};
    try {
      parsed = JSON.parse(decoder.decode(value));
    } catch {
      return {};
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as JsonObject) : {};
};

/**
 * Since EventStoreDB 20 every event written over gRPC is one log record whose commit and
 * prepare positions are equal; the commit position is Chronicle's global position.
 */
export const toStoredEvent = (recorded: RecordedEventLike, commitPosition?: Int64Like): StoredEvent => {
  const position = recorded.position?.commit ?? commitPosition;
  if (position === undefined)
    throw new Error(`EventStoreDB returned ${recorded.streamId}@${String(recorded.revision)} without a position; Chronicle needs server version 22.6 or later`);
  return {
    id: recorded.id,
    streamId: recorded.streamId,
    type: recorded.type,
    revision: toBigInt(recorded.revision),
    position: toBigInt(position),
    data: asJsonObject(recorded.data),
    metadata: asJsonObject(recorded.metadata),
    recordedAt: recorded.created,
  };
};

/** System streams (`$…`, including `$$` metadata streams) and system event types (`$>`, `$metadata`…). */
export const isSystemRecord = (recorded: Pick<RecordedEventLike, 'streamId' | 'type'>): boolean =>
  recorded.streamId.startsWith('$') || recorded.type.startsWith('$');
