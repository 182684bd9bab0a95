import { describe, expect, it } from 'vitest';
import { firstDuplicateKey } from '#http/duplicateJsonKeys';

describe('duplicate JSON keys', () => {
  it.each([
    ['{"email":"a","email":"b"}', 'email'],
    ['{"a":{"x":1,"x":2}}', 'x'],
    ['[{"k":1},{"k":2,"k":3}]', 'k'],
    ['{"e\\u006dail":1,"email":2}', 'email'],
    ['{"a":[{"b":1}],"a":2}', 'a'],
  ])('finds the repeated key in %s', (text, key) => expect(firstDuplicateKey(text)).toBe(key));

  it.each([['{"a":1,"b":{"a":2}}'], ['[{"k":1},{"k":2}]'], ['{"s":"a \\" , \\"s\\":"}'], ['{"a":"{\\"a\\":1}"}'], ['"plain"'], ['[1,2,3]'], ['{}']])(
    'finds none in %s',
    (text) => expect(firstDuplicateKey(text)).toBeNull(),
  );
});
