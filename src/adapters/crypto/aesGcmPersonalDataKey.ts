import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { PersonalDataKey } from '#domain/personalData';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Format marker of a sealed value: the algorithm can change later without guessing. */
const FORMAT = 'A256GCM.';

/** A fresh random data key (32 bytes, AES-256). */
export const newDataKey = (): Uint8Array => randomBytes(32);

/**
 * AES-256-GCM with a random 96-bit IV per seal and the context as additional authenticated data.
 * Sealed form: `A256GCM.` + base64url(iv ‖ ciphertext ‖ tag).
 */
export const aesGcmPersonalDataKey = (key: Uint8Array): PersonalDataKey => {
  if (key.length !== 32) throw new Error(`an AES-256 data key is 32 bytes, got ${key.length}`);
  const keyBuffer = Buffer.from(key);
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, keyBuffer, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return FORMAT + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(sealed, context) {
      if (!sealed.startsWith(FORMAT)) throw new Error('not an A256GCM sealed value');
      const bytes = Buffer.from(sealed.slice(FORMAT.length), 'base64url');
      if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value too short');
      const decipher = createDecipheriv(ALGORITHM, keyBuffer, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
};
