import { ValidationError } from './errors.ts';

export const EMAIL_MAX_LENGTH = 254;
export const DISPLAY_NAME_MAX_LENGTH = 100;
export const REASON_MAX_LENGTH = 500;

// Deliberately simple: one @, a dotted domain, no spaces. Deliverability is proven by verification.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
// After IDNA: LDH labels of 1–63 characters (RFC 1035/5890), so two spellings of a domain are one string.
const ASCII_DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * Characters that make two strings look alike, or reorder what a reader sees, without being
 * part of any real address or name: C0/C1 controls, zero-width characters, bidirectional marks,
 * embeddings, overrides and isolates, the BOM, and lone surrogates.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's purpose
const INVISIBLE_OR_BIDI = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const refuseHiddenCharacters = (raw: string, path: string): void => {
  if (LONE_SURROGATE.test(raw) || INVISIBLE_OR_BIDI.test(raw))
    throw new ValidationError(`${path} contains control, invisible or bidirectional characters`, [
      { path, message: 'must not contain control, zero-width or bidirectional-override characters' },
    ]);
};

// Latin letters beside Cyrillic or Greek ones in one label: the classic look-alike spoof
// (`pаypal` with a Cyrillic а). Browsers refuse such IDN labels for the same reason.
const LATIN = /\p{Script=Latin}/u;
const LOOKALIKE_SCRIPTS = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}]/u;
const mixesLookalikeScripts = (label: string): boolean => LATIN.test(label) && LOOKALIKE_SCRIPTS.test(label);

const invalidEmail = (path: string): ValidationError =>
  new ValidationError(`${path} is not a valid email address`, [{ path, message: 'must be an email address' }]);

/** The domain in its ASCII (IDNA/punycode) form: `Bücher.example` and `xn--bcher-kva.example` are one domain. */
const asciiDomain = (domain: string, path: string): string => {
  // Characters the URL parser would read as a port, path, query or escape: never part of a domain.
  if (/[:/?#[\]%\\]/.test(domain)) throw invalidEmail(path);
  let ascii: string;
  try {
    // WHATWG URL applies UTS #46 (IDNA) to the host; no import needed, so the domain stays pure.
    ascii = new URL(`http://${domain}/`).hostname;
  } catch {
    throw invalidEmail(path);
  }
  if (!ASCII_DOMAIN.test(ascii) || /^\d+$/.test(ascii.slice(ascii.lastIndexOf('.') + 1))) throw invalidEmail(path);
  return ascii;
};

/**
 * The one canonical form stored, compared and reserved: Unicode NFKC, trimmed, lower-cased,
 * the domain in ASCII. Hidden characters are refused rather than stripped, so two addresses
 * that differ only by such tricks can never both be registered.
 */
export const normalizeEmail = (raw: string, path = 'email'): string => {
  refuseHiddenCharacters(raw, path);
  // IDNA reads the ideographic and halfwidth full stops as label dots too (UTS #46).
  const email = raw.normalize('NFKC').replace(/[\u3002\uff0e\uff61]/g, '.').trim().toLowerCase();
  if (email.length === 0) throw new ValidationError(`${path} is required`, [{ path, message: 'must not be empty' }]);
  if (email.length > EMAIL_MAX_LENGTH)
    throw new ValidationError(`${path} is too long`, [{ path, message: `must be at most ${EMAIL_MAX_LENGTH} characters` }]);
  if (!EMAIL_PATTERN.test(email)) throw invalidEmail(path);
  if (email.split(/[@.]/).some(mixesLookalikeScripts))
    throw new ValidationError(`${path} mixes look-alike scripts`, [{ path, message: 'must not mix Latin with Cyrillic, Greek or Armenian letters in one part' }]);
  const at = email.lastIndexOf('@');
  const canonical = `${email.slice(0, at)}@${asciiDomain(email.slice(at + 1), path)}`;
  if (canonical.length > EMAIL_MAX_LENGTH)
    throw new ValidationError(`${path} is too long`, [{ path, message: `must be at most ${EMAIL_MAX_LENGTH} characters` }]);
  return canonical;
};

const boundedText = (raw: string, path: string, max: number): string => {
  refuseHiddenCharacters(raw, path);
  const text = raw.normalize('NFC').trim();
  if (text.length === 0) throw new ValidationError(`${path} is required`, [{ path, message: 'must not be empty' }]);
  if (text.length > max) throw new ValidationError(`${path} is too long`, [{ path, message: `must be at most ${max} characters` }]);
  return text;
};

export const normalizeDisplayName = (raw: string): string => boundedText(raw, 'displayName', DISPLAY_NAME_MAX_LENGTH);
export const normalizeReason = (raw: string): string => boundedText(raw, 'reason', REASON_MAX_LENGTH);

export const userStreamId = (userId: string): string => `user-${userId}`;
export const USER_STREAM_PREFIX = 'user-';
export const userIdFromStreamId = (streamId: string): string => streamId.slice(USER_STREAM_PREFIX.length);
