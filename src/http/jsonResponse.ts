import type { HttpResponse } from './httpEvent.ts';

// Revisions and positions are 64-bit: they travel as decimal strings, never as lossy numbers.
const replacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

export const jsonResponse = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body, replacer),
});
