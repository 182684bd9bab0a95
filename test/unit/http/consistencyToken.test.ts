import { describe, expect, it } from 'vitest';
import { isValidationError, ValidationError } from '#domain/errors';
import { consistencyTokenOf, parseConsistencyToken } from '#http/consistencyToken';

const requestWith = (headers: Record<string, string>, consistentWith?: string) => ({
  header: (name: string) => headers[name.toLowerCase()],
  query: { consistentWith },
});

describe('consistency token', () => {
  it('reads a decimal position', () => expect(parseConsistencyToken('42', 'consistentWith')).toBe(42n));
  it('keeps 64-bit positions exact', () => expect(parseConsistencyToken('18446744073709551615', 'consistentWith')).toBe(18446744073709551615n));
  it('is absent when empty', () => expect(parseConsistencyToken('', 'consistentWith')).toBeUndefined());
  it.each(['-1', '1.5', 'abc', '18446744073709551616'])('rejects %s', (raw) => expect(() => parseConsistencyToken(raw, 'consistentWith')).toThrow(ValidationError));

  describe('on a request', () => {
    it('reads the X-Consistency-Token header', () => expect(consistencyTokenOf(requestWith({ 'x-consistency-token': '7' }))).toBe(7n));
    it('reads ?consistentWith= when no header is sent', () => expect(consistencyTokenOf(requestWith({}, '9'))).toBe(9n));
    it('prefers the header', () => expect(consistencyTokenOf(requestWith({ 'x-consistency-token': '7' }, '9'))).toBe(7n));
    it('is absent when neither is sent', () => expect(consistencyTokenOf(requestWith({}))).toBeUndefined());
    it('names the header when it is malformed', () => {
      try {
        consistencyTokenOf(requestWith({ 'x-consistency-token': 'yesterday' }));
        expect.unreachable();
      } catch (error) {
        expect(isValidationError(error) && error.issues.map((issue) => issue.path)).toEqual(['X-Consistency-Token']);
      }
    });
  });
});
