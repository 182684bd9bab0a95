import { createHmac } from 'node:crypto';

/** Object keys sorted at every level, so two spellings of one body give one fingerprint. */
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
};

/**
 * What a command request asked, as a keyed digest: it is stored in event metadata, and a plain
 * hash of a body holding an email address would be reversible by dictionary.
 */
export type RequestFingerprinter = (request: { readonly route: string; readonly target: string | null; readonly body: unknown }) => string;

export const createRequestFingerprinter =
  (key: string): RequestFingerprinter =>
  (request) =>
    createHmac('sha256', key).update('chronicle-request/v1\n').update(canonicalJson(request)).digest('base64url').slice(0, 32);
