import { describe, expect, it } from 'vitest';
import { isValidationError } from '#domain/errors';
import { consistencyTokenOf, createConsistencyTokens } from '#http/consistencyToken';

const tokens = createConsistencyTokens(['key-one-0123456789abcdef0123456789ab']);

const requestWith = (headers: Record<string, string>, consistentWith?: string) => ({
  header: (name: string) => headers[name.toLowerCase()],
  query: { consistentWith },
});

const pathOfFailure = (run: () => unknown): string[] | null => {
  try {
    run();
    return null;
  } catch (error) {
    return isValidationError(error) ? error.issues.map((issue) => issue.path) : null;
  }
};

describe('consistency token', () => {
  it('carries the position it was issued for', () => expect(tokens.parse(tokens.issue(42n), 'consistentWith')).toBe(42n));
  it('keeps 64-bit positions exact', () => expect(tokens.parse(tokens.issue(18446744073709551615n), 'consistentWith')).toBe(18446744073709551615n));
  it('is opaque: the position is not readable as a number in it', () => expect(tokens.issue(12345n)).not.toContain('12345'));
  it('is absent when empty', () => expect(tokens.parse('', 'consistentWith')).toBeUndefined());

  it.each(['42', '-1', 'abc', 'A'.repeat(32), 'A'.repeat(200)])('refuses %s, naming where it came from', (raw) =>
    expect(pathOfFailure(() => tokens.parse(raw, 'consistentWith'))).toEqual(['consistentWith']));

  it('refuses a token whose position was changed (a forged far-future position)', () => {
    const bytes = Buffer.from(tokens.issue(7n), 'base64url');
    bytes.writeBigUInt64BE(2n ** 62n, 0);
    expect(pathOfFailure(() => tokens.parse(bytes.toString('base64url'), 'X-Consistency-Token'))).toEqual(['X-Consistency-Token']);
  });

  it('refuses a token signed under another key', () => {
    const other = createConsistencyTokens(['key-two-0123456789abcdef0123456789ab']);
    expect(pathOfFailure(() => tokens.parse(other.issue(7n), 'consistentWith'))).toEqual(['consistentWith']);
  });

  it('accepts tokens of an older key during a rotation, and signs with the newest', () => {
    const rotated = createConsistencyTokens(['key-two-0123456789abcdef0123456789ab', 'key-one-0123456789abcdef0123456789ab']);
    expect(rotated.parse(tokens.issue(9n), 'consistentWith')).toBe(9n);
    expect(pathOfFailure(() => tokens.parse(rotated.issue(9n), 'consistentWith'))).toEqual(['consistentWith']);
  });

  describe('on a request', () => {
    it('reads the X-Consistency-Token header', () => expect(consistencyTokenOf(tokens, requestWith({ 'x-consistency-token': tokens.issue(7n) }))).toBe(7n));
    it('reads ?consistentWith= when no header is sent', () => expect(consistencyTokenOf(tokens, requestWith({}, tokens.issue(9n)))).toBe(9n));
    it('prefers the header', () => expect(consistencyTokenOf(tokens, requestWith({ 'x-consistency-token': tokens.issue(7n) }, tokens.issue(9n)))).toBe(7n));
    it('is absent when neither is sent', () => expect(consistencyTokenOf(tokens, requestWith({}))).toBeUndefined());
    it('names the header when it is malformed', () =>
      expect(pathOfFailure(() => consistencyTokenOf(tokens, requestWith({ 'x-consistency-token': 'yesterday' })))).toEqual(['X-Consistency-Token']));
  });
});
