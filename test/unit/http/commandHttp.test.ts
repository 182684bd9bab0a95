import { describe, expect, it } from 'vitest';
import { commandOptionsOf, commandResponse } from '#http/commandHttp';

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

  it('answers id, revision and position as strings, with ETag and consistency token', () => {
    const response = commandResponse({ id: 'u1', revision: 2n, position: 9007199254740993n }, 201, { location: '/users/u1' });
    expect(response.statusCode).toBe(201);
    expect(JSON.parse(response.body)).toEqual({ id: 'u1', revision: '2', position: '9007199254740993' });
    expect(response.headers).toMatchObject({ etag: '"2"', 'x-consistency-token': '9007199254740993', location: '/users/u1' });
  });
});
