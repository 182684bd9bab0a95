import { describe, expect, it } from 'vitest';
import { PreconditionFailedError, ValidationError } from '#domain/errors';
import { formatEtag, parseIfMatch } from '#http/etag';

describe('entity tags', () => {
  it('formats a revision as a strong tag', () => expect(formatEtag(12n)).toBe('"12"'));

  describe('If-Match', () => {
    it('reads a strong tag', () => expect(parseIfMatch('"3"')).toBe(3n));
    it('answers a weak tag as never matching (strong comparison, RFC 9110)', () => expect(() => parseIfMatch('W/"3"')).toThrow(PreconditionFailedError));
    it('keeps 64-bit revisions exact', () => expect(parseIfMatch('"9007199254740993"')).toBe(9007199254740993n));
    it('pins nothing when absent or *', () => expect([parseIfMatch(undefined), parseIfMatch('*')]).toEqual([undefined, undefined]));
    it.each(['3', '"abc"', '"3", "4"', '""', 'W/3', '"18446744073709551616"'])('rejects %s as a validation error', (header) => expect(() => parseIfMatch(header)).toThrow(ValidationError));
  });
});
