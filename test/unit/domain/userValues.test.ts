import { describe, expect, it } from 'vitest';
import { isValidationError } from '#domain/errors';
import { normalizeDisplayName, normalizeEmail, normalizeReason } from '#domain/userValues';

const refusal = (run: () => unknown): string[] | 'accepted' => {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return isValidationError(error) ? error.issues.map((issue) => issue.path) : [String(error)];
  }
};

describe('email canonical form', () => {
  it.each([
    ['  Ada@Example.COM ', 'ada@example.com'],
    ['ａｄａ@ｅｘａｍｐｌｅ.com', 'ada@example.com'],
    ['ada@Bücher.example', 'ada@xn--bcher-kva.example'],
    ['ada@xn--bcher-kva.example', 'ada@xn--bcher-kva.example'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
  ])('reads %s as %s', (raw, canonical) => expect(normalizeEmail(raw)).toBe(canonical));

  it('accepts an address wholly in another script', () => expect(normalizeEmail('иван@пример.рф')).toBe('иван@xn--e1afmkfd.xn--p1ai'));

  it('makes addresses that differ only by Unicode width or IDNA spelling one address', () => {
    expect(normalizeEmail('ＡＤＡ@bücher.example')).toBe(normalizeEmail('ada@XN--BCHER-KVA.example'));
  });

  it.each([
    ['a zero-width space', 'ada\u200b@example.com'],
    ['a zero-width joiner', 'a\u200dda@example.com'],
    ['a right-to-left override', 'ada@exa\u202emple.com'],
    ['a bidi isolate', '\u2067ada@example.com'],
    ['a control character', 'ada\u0007@example.com'],
    ['a byte-order mark', '\ufeffada@example.com'],
    ['an unpaired surrogate', 'ada\ud800@example.com'],
    ['a port', 'ada@example.com:25'],
    ['a path', 'ada@example.com/x'],
    ['a percent escape', 'ada@exa%6dple.com'],
    ['a numeric top-level domain', 'ada@10.0.0.1'],
    ['a label starting with a hyphen', 'ada@-example.com'],
    ['two at signs', 'a@b@example.com'],
    ['a Cyrillic look-alike inside a Latin domain label', 'ada@exаmple.com'],
    ['a Greek look-alike inside a Latin local part', 'αda@example.com'],
  ])('refuses %s, naming the field', (_name, raw) => expect(refusal(() => normalizeEmail(raw))).toEqual(['email']));
});

describe('display names and reasons', () => {
  it('keep letters of every script', () => expect(normalizeDisplayName(' Ada Lovelace – 艾达 ')).toBe('Ada Lovelace – 艾达'));
  it.each([['\u202eevil'], ['a\u0000b'], ['x\u2066y'], ['zero\u200bwidth']])('refuse hidden characters in %j', (raw) => {
    expect(refusal(() => normalizeDisplayName(raw))).toEqual(['displayName']);
    expect(refusal(() => normalizeReason(raw))).toEqual(['reason']);
  });
});
