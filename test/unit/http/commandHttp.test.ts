import { describe, expect, it } from 'vitest';
import { commandOptionsOf, commandResponse, newUserIdOf } from '#http/commandHttp';

const requestWith = (headers: Record<string, string>) => ({
  info: { correlationId: 'corr-1', requestId: 'req-1', startedAt: 0 },
  header: (name: string) => headers[name.toLowerCase()],
});

describe('commands over HTTP', () => {
  it('uses the Idempotency-Key as the command id', () => {
    expect(commandOptionsOf(requestWith({ 'idempotency-key': 'key-123' }))).toMatchObject({ commandId: 'key-123', correlationId: 'corr-1' });
  });

  it('makes a fresh command id without a key', () => {
    const [a, b] = [commandOptionsOf(requestWith({})), commandOptionsOf(requestWith({}))];
    expect(a.commandId).not.toBe(b.commandId);
  });

  it('pins the If-Match revision', () => {
    expect(commandOptionsOf(requestWith({ 'if-match': 'W/"4"' })).expectedRevision).toBe(4n);
  });

  it('derives a new user id from the Idempotency-Key, so a retry lands on the same user', () => {
    const [a, b, other] = [newUserIdOf(requestWith({ 'idempotency-key': 'key-1' })), newUserIdOf(requestWith({ 'idempotency-key': 'key-1' })), newUserIdOf(requestWith({ 'idempotency-key': 'key-2' }))];
    expect(a).toBe(b);
    expect(a).not.toBe(other);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('makes a random user id without a key', () => expect(newUserIdOf(requestWith({}))).not.toBe(newUserIdOf(requestWith({}))));

  it('rejects a malformed Idempotency-Key', () => {
    expect(() => commandOptionsOf(requestWith({ 'idempotency-key': 'bad key with spaces' }))).toThrow(/Idempotency-Key/);
  });

  it('answers id, revision and position as strings, with ETag and consistency token', () => {
    const response = commandResponse({ id: 'u1', revision: 2n, position: 9007199254740993n }, 201, { location: '/users/u1' });
    expect(response.statusCode).toBe(201);
    expect(JSON.parse(response.body)).toEqual({ id: 'u1', revision: '2', position: '9007199254740993' });
    expect(response.headers).toMatchObject({ etag: '"2"', 'x-consistency-token': '9007199254740993', location: '/users/u1' });
  });
});
