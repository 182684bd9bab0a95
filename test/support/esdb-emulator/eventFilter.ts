import type { RecordedEntry } from './eventLog.ts';

interface ExpressionLike {
  getRegex(): string;
  getPrefixList(): string[];
}

/** The filter oneof as both ReadReq and the persistent CreateReq carry it: 1 stream name, 2 event type. */
export interface FilterOptionsLike {
  getFilterCase(): number;
  getStreamIdentifier(): ExpressionLike | undefined;
  getEventType(): ExpressionLike | undefined;
}

export interface EventFilter {
  matches(entry: RecordedEntry): boolean;
}

/** Prefixes match with startsWith, a regex anywhere in the value (unanchored), as on the server. */
const expressionMatcher = (expression: ExpressionLike | undefined): ((value: string) => boolean) => {
  const prefixes = expression?.getPrefixList() ?? [];
  const source = expression?.getRegex() ?? '';
  if (prefixes.length > 0) return (value) => prefixes.some((prefix) => value.startsWith(prefix));
  if (source !== '') {
    const regex = new RegExp(source);
    return (value) => regex.test(value);
  }
  return () => true;
};

export const eventFilterOf = (options: FilterOptionsLike | undefined): EventFilter => {
  if (options === undefined) return { matches: () => true };
  if (options.getFilterCase() === 2) {
    const test = expressionMatcher(options.getEventType());
    return { matches: (entry) => test(entry.type) };
  }
  const test = expressionMatcher(options.getStreamIdentifier());
  return { matches: (entry) => test(entry.streamId) };
};
