import type { ExpectedRevision } from './eventLog.ts';

/** The expected-revision oneof as Append, Delete and Tombstone options carry it. */
interface ExpectedRevisionOptions {
  getExpectedStreamRevisionCase(): number;
  getRevision(): string;
}

/** Field numbers shared by AppendReq/DeleteReq/TombstoneReq options: 2 revision, 3 no_stream, 4 any, 5 stream_exists. */
export const expectedRevisionOf = (options: ExpectedRevisionOptions): ExpectedRevision => {
  switch (options.getExpectedStreamRevisionCase()) {
    case 2:
      return { kind: 'exact', revision: BigInt(options.getRevision()) };
    case 3:
      return { kind: 'no_stream' };
    case 5:
      return { kind: 'stream_exists' };
    default:
      return { kind: 'any' };
  }
};

/** BatchAppend's oneof: 2 stream_position, 3 no_stream, 4 any, 5 stream_exists. */
export const batchExpectedRevisionOf = (options: { getExpectedStreamPositionCase(): number; getStreamPosition(): string }): ExpectedRevision =>
  expectedRevisionOf({ getExpectedStreamRevisionCase: () => options.getExpectedStreamPositionCase(), getRevision: () => options.getStreamPosition() });
