/**
 * Hostile requests: each must be answered with a 4xx JSON error that names the problem, and
 * none may write anything. Built from families of cases so that every bound and trick is
 * tried on every route it applies to.
 */
export interface HostileCase {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as is (no JSON encoding), so that malformed bodies reach the service unchanged. */
  readonly body?: string;
  /** Which credentials to send: the owner's, an admin's, none, or a literal Authorization value. */
  readonly as: 'owner' | 'admin' | 'intruder' | 'nobody' | { readonly authorization: string };
  /** The statuses that are right for it (all 4xx). */
  readonly expect: readonly number[];
}

export interface CorpusContext {
  /** An existing user the owner token belongs to. */
  readonly ownerId: string;
  /** That user's current email (held: registering it again must fail). */
  readonly takenEmail: string;
  /** A valid consistency token and cursor, to tamper with. */
  readonly validToken: string;
}

const json = { 'content-type': 'application/json' };
/** The service's default MAX_BODY_BYTES. */
const MAX_BODY_BYTES = 16_384;
const fresh = (i: number) => `hostile-${i}-${Math.random().toString(36).slice(2, 8)}@example.com`;

export const hostileCorpus = (ctx: CorpusContext): HostileCase[] => {
  const cases: HostileCase[] = [];
  const add = (c: HostileCase) => cases.push(c);
  const commandRoutes = [
    { path: '/users', as: 'owner' as const, valid: { email: 'x@example.com', displayName: 'X' } },
    { path: `/users/${ctx.ownerId}/email`, as: 'owner' as const, valid: { email: 'x@example.com' } },
    { path: `/users/${ctx.ownerId}/email/verification`, as: 'admin' as const, valid: { email: 'x@example.com' } },
    { path: `/users/${ctx.ownerId}/suspension`, as: 'admin' as const, valid: { reason: 'x' } },
  ];

  // 1. Malformed JSON, on every command route.
  const malformed = [
    '{',
    '{"email":',
    '{"email":"a@example.com",}',
    "{'email':'a@example.com'}",
    '{"email":"a@example.com" "displayName":"X"}',
    '{email:"a@example.com"}',
    '{"email":"a@example.com"}}',
    '{"email":NaN}',
    '{"email":Infinity}',
    '{"email":undefined}',
    '/* comment */ {"email":"a@example.com"}',
    '{"email":"a@example.com"} // trailing',
    '\ufeff{"email":"a@example.com"}',
    '{"email":"\\x41"}',
    '{"email":"\\u00"}',
    '{"email":"unterminated}',
    'nul',
    'tru',
    '[',
    '{"a":1,"a":2}',
    '{"email":"a@example.com","email":"b@example.com","displayName":"X","reason":"r"}',
  ];
  for (const route of commandRoutes)
    for (const body of malformed) add({ name: `malformed JSON ${JSON.stringify(body).slice(0, 40)} on ${route.path}`, method: 'POST', path: route.path, headers: json, body, as: route.as, expect: [400] });

  // 2. Valid JSON of the wrong shape.
  const wrongShapes = ['{"email":"a@example.com","displayName":"X","reason":"r","status":"active","isAdmin":true}', '{"email":"a@example.com","displayName":"X","userId":"00000000-0000-4000-8000-000000000000"}', 'null', 'true', '42', '"a string"', '[]', '[{"email":"a@example.com"}]', '{}', '{"email":null}', '{"email":42}', '{"email":["a@example.com"]}', '{"email":{"$ne":""}}', '{"displayName":7,"email":true}', '{"reason":false}'];
  for (const route of commandRoutes)
    for (const body of wrongShapes) add({ name: `wrong shape ${body} on ${route.path}`, method: 'POST', path: route.path, headers: json, body, as: route.as, expect: [400] });

  // 3. Deep nesting and huge keys (within and past the body limit).
  const bySize = (body: string): readonly number[] => (Buffer.byteLength(body) > MAX_BODY_BYTES ? [413] : [400]);
  for (const depth of [64, 1_000, 3_000, 5_000]) {
    const arrays = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const objects = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    add({ name: `arrays nested ${depth} deep`, method: 'POST', path: '/users', headers: json, body: arrays, as: 'owner', expect: bySize(arrays) });
    add({ name: `objects nested ${depth} deep`, method: 'POST', path: '/users', headers: json, body: objects, as: 'owner', expect: bySize(objects) });
  }
  for (const size of [1_000, 10_000, 20_000, 100_000]) {
    const body = `{"${'k'.repeat(size)}":1,"email":"a@example.com","displayName":"X"}`;
    add({ name: `a key of ${size} characters`, method: 'POST', path: '/users', headers: json, body, as: 'owner', expect: bySize(body) });
  }
  for (const size of [20_000, 200_000, 1_000_000])
    add({ name: `a body of ${size} bytes`, method: 'POST', path: '/users', headers: json, body: JSON.stringify({ email: 'a@example.com', displayName: 'x'.repeat(size) }), as: 'owner', expect: [413] });

  // 4. Values at and past every bound.
  const local = (n: number) => 'a'.repeat(n);
  const emails: Array<[string, string]> = [
    ['an email of 255 characters', `${local(243)}@example.com`],
    ['an email of 1,000 characters', `${local(988)}@example.com`],
    ['an empty email', ''],
    ['a blank email', '   '],
    ['no at sign', 'example.com'],
    ['no domain', 'ada@'],
    ['no local part', '@example.com'],
    ['a dotless domain', 'ada@localhost'],
    ['spaces inside', 'ada lovelace@example.com'],
    ['a port', 'ada@example.com:25'],
    ['an IP literal', 'ada@[127.0.0.1]'],
    ['a numeric domain', 'ada@127.0.0.1'],
    ['a path', 'ada@example.com/../../etc'],
    ['a query', 'ada@example.com?x=1'],
    ['a percent escape', 'ada@ex%61mple.com'],
    ['a label of 64 characters', `ada@${'a'.repeat(64)}.com`],
    ['a leading hyphen', 'ada@-example.com'],
    ['an underscore in the domain', 'ada@ex_ample.com'],
    ['two at signs', 'ada@lovelace@example.com'],
    ['a newline', 'ada@example.com\nBcc: all@example.com'],
    ['a carriage return', 'ada@example.com\r\n'],
    ['a NUL', 'ada\u0000@example.com'],
    ['a tab', 'ada\t@example.com'],
    ['a zero-width space', 'ada\u200b@example.com'],
    ['a zero-width non-joiner', 'a\u200cda@example.com'],
    ['a zero-width joiner', 'a\u200dda@example.com'],
    ['a word joiner', 'ada\u2060@example.com'],
    ['a soft hyphen', 'ada\u00ad@example.com'],
    ['a BOM', '\ufeffada@example.com'],
    ['a left-to-right mark', 'ada\u200e@example.com'],
    ['a right-to-left mark', 'ada\u200f@example.com'],
    ['a right-to-left override', 'ada@exa\u202emple.com'],
    ['a left-to-right embedding', '\u202aada@example.com'],
    ['a pop directional formatting', 'ada\u202c@example.com'],
    ['a bidi isolate', '\u2066ada@example.com\u2069'],
    ['an Arabic letter mark', 'ada\u061c@example.com'],
    ['a Mongolian vowel separator', 'ada\u180e@example.com'],
    ['a Cyrillic а in a Latin domain', 'ada@exаmple.com'],
    ['a Cyrillic о in a Latin local part', 'јоhn@example.com'],
    ['a Greek ο in a Latin domain', 'ada@gοogle.com'],
    ['an Armenian օ in a Latin domain', 'ada@gօogle.com'],
    ['an unpaired high surrogate', 'ada\ud800@example.com'],
    ['an unpaired low surrogate', 'ada\udc00@example.com'],
  ];
  for (const [name, email] of emails) {
    add({ name: `registration with ${name}`, method: 'POST', path: '/users', headers: json, body: JSON.stringify({ email, displayName: 'X' }), as: 'owner', expect: [400] });
    add({ name: `email change to ${name}`, method: 'POST', path: `/users/${ctx.ownerId}/email`, headers: json, body: JSON.stringify({ email }), as: 'owner', expect: [400] });
  }
  // Confusables that normalise to an address someone holds collide with it.
  const [takenLocal, takenDomain] = ctx.takenEmail.split('@') as [string, string];
  const disguises: Array<[string, string]> = [
    ['upper case', ctx.takenEmail.toUpperCase()],
    ['surrounding spaces', `  ${ctx.takenEmail}  `],
    ['fullwidth letters', `${[...takenLocal].map((c) => (/[a-z]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c)).join('')}@${takenDomain}`],
    ['a fullwidth at sign', `${takenLocal}＠${takenDomain}`],
    ['a fullwidth full stop in the domain', `${takenLocal}@${takenDomain.replace('.', '．')}`],
    ['an ideographic full stop in the domain', `${takenLocal}@${takenDomain.replace('.', '。')}`],
    ['a mathematical bold letter', `${takenLocal}@${takenDomain.replace('e', '𝐞')}`],
  ];
  for (const [name, email] of disguises)
    add({ name: `registration of a held address in disguise: ${name}`, method: 'POST', path: '/users', headers: json, body: JSON.stringify({ email, displayName: 'X' }), as: 'intruder', expect: [409] });

  const texts: Array<[string, string]> = [
    ['empty', ''],
    ['blank', '   \t '],
    ['with a NUL', 'a\u0000b'],
    ['with a bell', 'a\u0007b'],
    ['with a newline', 'a\nb'],
    ['with DEL', 'a\u007fb'],
    ['with a C1 control', 'a\u0085b'],
    ['with a right-to-left override', 'admin\u202e'],
    ['with a first strong isolate', '\u2068x'],
    ['with a zero-width space', 'a\u200bb'],
    ['with a BOM', '\ufeffa'],
    ['with an unpaired surrogate', 'a\udfffb'],
  ];
  for (const [name, text] of texts) {
    add({ name: `display name ${name}`, method: 'POST', path: '/users', headers: json, body: JSON.stringify({ email: fresh(cases.length), displayName: text }), as: 'intruder', expect: [400] });
    add({ name: `suspension reason ${name}`, method: 'POST', path: `/users/${ctx.ownerId}/suspension`, headers: json, body: JSON.stringify({ reason: text }), as: 'admin', expect: [400] });
  }
  for (const length of [101, 102, 1_000])
    add({ name: `display name of ${length} characters`, method: 'POST', path: '/users', headers: json, body: JSON.stringify({ email: fresh(cases.length), displayName: 'x'.repeat(length) }), as: 'intruder', expect: [400] });
  for (const length of [501, 2_000])
    add({ name: `reason of ${length} characters`, method: 'POST', path: `/users/${ctx.ownerId}/suspension`, headers: json, body: JSON.stringify({ reason: 'r'.repeat(length) }), as: 'admin', expect: [400] });

  // 5. Query parameters at and past their bounds.
  for (const limit of ['0', '-1', '101', '1000', '1e2', '1.5', '0x10', ' 5', 'ten', '', '99999999999999999999', '%00'])
    add({ name: `list limit ${JSON.stringify(limit)}`, method: 'GET', path: `/users?limit=${encodeURIComponent(limit)}`, as: 'admin', expect: [400] });
  for (const status of ['deleted', 'ACTIVE', 'active ', '', 'active,suspended', '*'])
    add({ name: `list status ${JSON.stringify(status)}`, method: 'GET', path: `/users?status=${encodeURIComponent(status)}`, as: 'admin', expect: [400] });
  const cursors = ['!', 'not-base64-*', Buffer.from('no order key').toString('base64url'), Buffer.from('123:abc').toString('base64url'), Buffer.from('999999999999999').toString('base64url'), 'A'.repeat(600), '%ZZ', ''];
  for (const cursor of cursors) add({ name: `cursor ${JSON.stringify(cursor.slice(0, 30))}`, method: 'GET', path: `/users?cursor=${encodeURIComponent(cursor)}`, as: 'admin', expect: [400] });

  // 6. Consistency tokens: malformed, forged, altered.
  const flipped = (() => {
    const bytes = Buffer.from(ctx.validToken, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    return bytes.toString('base64url');
  })();
  const badTokens = ['1', '18446744073709551615', '-1', 'yesterday', 'A'.repeat(32), `${ctx.validToken}A`, ctx.validToken.slice(1), flipped, ctx.validToken.toUpperCase(), 'A'.repeat(2_000)];
  for (const token of badTokens) {
    add({ name: `X-Consistency-Token ${JSON.stringify(token.slice(0, 24))} on a read`, method: 'GET', path: `/users/${ctx.ownerId}`, headers: { 'x-consistency-token': token }, as: 'owner', expect: [400] });
    add({ name: `consistentWith ${JSON.stringify(token.slice(0, 24))} on a list`, method: 'GET', path: `/users?consistentWith=${encodeURIComponent(token)}`, as: 'admin', expect: [400] });
  }

  // 7. Headers: If-Match, Idempotency-Key, oversized values.
  for (const ifMatch of ['3', '"abc"', '"1", "2"', '""', 'W/3', 'W/"0"', '"18446744073709551616"', '"-1"', 'x'.repeat(5_000)])
    add({ name: `If-Match ${JSON.stringify(ifMatch.slice(0, 20))}`, method: 'POST', path: `/users/${ctx.ownerId}/email`, headers: { ...json, 'if-match': ifMatch }, body: JSON.stringify({ email: fresh(cases.length) }), as: 'owner', expect: [400, 412] });
  for (const key of ['has spaces', 'ünïcode', 'k'.repeat(201), 'tab\there', 'x'.repeat(8_000)])
    add({ name: `Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`, method: 'POST', path: `/users/${ctx.ownerId}/email`, headers: { ...json, 'idempotency-key': key }, body: JSON.stringify({ email: fresh(cases.length) }), as: 'owner', expect: [400] });

  // 8. Methods and content types.
  for (const [method, path] of [
    ['PUT', '/users'],
    ['PATCH', '/users'],
    ['DELETE', '/users'],
    ['PUT', `/users/${ctx.ownerId}`],
    ['PATCH', `/users/${ctx.ownerId}`],
    ['POST', `/users/${ctx.ownerId}`],
    ['GET', `/users/${ctx.ownerId}/email`],
    ['PUT', `/users/${ctx.ownerId}/email`],
    ['DELETE', `/users/${ctx.ownerId}/suspension`],
    ['GET', `/users/${ctx.ownerId}/reactivation`],
    ['POST', `/users/${ctx.ownerId}/events`],
    ['POST', '/health'],
  ] as const)
    add({ name: `${method} ${path.replace(ctx.ownerId, '{id}')}`, method, path, as: 'admin', expect: [405] });
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonp', 'text/json', 'application/json-patch', 'image/png'])
    for (const route of commandRoutes.slice(0, 2))
      add({ name: `Content-Type ${contentType} on ${route.path}`, method: 'POST', path: route.path, headers: { 'content-type': contentType }, body: JSON.stringify(route.valid), as: route.as, expect: [415] });

  // 9. Path ids that are no UUID, or try to walk elsewhere.
  const ids = ['not-a-uuid', '123', '00000000-0000-0000-0000-00000000000', `${ctx.ownerId}x`, ctx.ownerId.toUpperCase().replace(/-/g, ''), '..', '..%2f..%2fetc%2fpasswd', '%2e%2e', 'user-1%00', '%00', "1'%20OR%20'1'='1", '%3Cscript%3E', 'a'.repeat(300)];
  for (const id of ids) {
    add({ name: `GET /users/${id.slice(0, 30)}`, method: 'GET', path: `/users/${id}`, as: 'admin', expect: [400, 404] });
    add({ name: `POST /users/${id.slice(0, 30)}/suspension`, method: 'POST', path: `/users/${id}/suspension`, headers: json, body: '{"reason":"x"}', as: 'admin', expect: [400, 404] });
  }
  for (const path of ['/', '/admin', '/users/%2e%2e%2fhealth', '/.env', '/users/%2e%2e/%2e%2e/etc/passwd', '/users/x/y/z', '//users'])
    add({ name: `unknown route ${path}`, method: 'GET', path, as: 'admin', expect: [400, 404, 405] });

  // 10. Tokens.
  const tokenCases: Array<[string, string]> = [
    ['Basic credentials', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
    ['an empty bearer', 'Bearer '],
    ['a bearer of garbage', 'Bearer garbage'],
    ['a bearer of three dots', 'Bearer ...'],
    ['an unsigned token', `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"root","scope":"chronicle:admin"}').toString('base64url')}.`],
    ['a huge bearer', `Bearer ${'a'.repeat(9_000)}`],
  ];
  for (const [name, authorization] of tokenCases)
    for (const [method, path, body] of [
      ['GET', `/users/${ctx.ownerId}`, undefined],
      ['POST', '/users', '{"email":"x@example.com","displayName":"X"}'],
      ['GET', '/users', undefined],
      ['DELETE', `/users/${ctx.ownerId}`, undefined],
      ['GET', `/users/${ctx.ownerId}/export`, undefined],
    ] as const)
      add({ name: `${name} on ${method} ${path.replace(ctx.ownerId, '{id}')}`, method, path, ...(body === undefined ? {} : { headers: json, body }), as: { authorization }, expect: [401] });

  // 11. Access: somebody else's account, admin routes, without a token.
  for (const [method, path, body] of [
    ['GET', `/users/${ctx.ownerId}`, undefined],
    ['GET', `/users/${ctx.ownerId}/events`, undefined],
    ['POST', `/users/${ctx.ownerId}/email`, '{"email":"thief@example.com"}'],
    ['POST', `/users/${ctx.ownerId}/email/verification`, '{"email":"thief@example.com"}'],
    ['GET', `/users/${ctx.ownerId}/export`, undefined],
    ['DELETE', `/users/${ctx.ownerId}`, undefined],
  ] as const)
    add({ name: `an intruder on ${method} ${path.replace(ctx.ownerId, '{id}')}`, method, path, ...(body === undefined ? {} : { headers: json, body }), as: 'intruder', expect: [404] });
  for (const [method, path, body] of [
    ['POST', `/users/${ctx.ownerId}/suspension`, '{"reason":"x"}'],
    ['POST', `/users/${ctx.ownerId}/reactivation`, '{}'],
    ['GET', '/users', undefined],
  ] as const)
    add({ name: `a non-admin on ${method} ${path.replace(ctx.ownerId, '{id}')}`, method, path, ...(body === undefined ? {} : { headers: json, body }), as: 'intruder', expect: [403] });
  add({ name: 'owner verification without mailbox proof', method: 'POST', path: `/users/${ctx.ownerId}/email/verification`, headers: json, body: JSON.stringify({ email: ctx.takenEmail }), as: 'owner', expect: [403] });
  add({ name: 'a second registration of the same identity', method: 'POST', path: '/users', headers: json, body: JSON.stringify({ email: fresh(cases.length), displayName: 'Again' }), as: 'owner', expect: [409] });
  return cases;
};
