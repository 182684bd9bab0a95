import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KeyWrapper } from '#ports/dataKeys';
import { createRandomIvs } from './randomIvs.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const nextIv = createRandomIvs(IV_BYTES);

/**
 * Wraps data keys with AES-256-GCM under one local wrapping key, the user id as additional
 * authenticated data. The embedded default's stand-in for KMS: it keeps a copy of the key store
 * useless without the wrapping key, no more (both sit on the same disk).
 */
export const createLocalKeyWrapper = (wrappingKey: Uint8Array): KeyWrapper => {
  if (wrappingKey.length !== 32) throw new Error(`the wrapping key is 32 bytes, got ${wrappingKey.length}`);
  // A KeyObject, not a Buffer: see aesGcmPersonalDataKey.ts (Node 24 rebuilds one per call otherwise).
  const key = createSecretKey(wrappingKey);
  return {
    async wrap(dataKey, userId) {
      const iv = nextIv();
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(userId, 'utf8'));
      const body = cipher.update(dataKey);
      cipher.final();
      return Buffer.concat([iv, body, cipher.getAuthTag()], IV_BYTES + body.length + TAG_BYTES);
    },
    async unwrap(wrapped, userId) {
      // Views, not copies: a projector's batch unwraps a key for every new user it meets.
      const bytes = Buffer.isBuffer(wrapped) ? wrapped : Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(userId, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const dataKey = decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES));
      decipher.final();
      // A plain Uint8Array, as the port says, over the same memory (no copy).
      return new Uint8Array(dataKey.buffer, dataKey.byteOffset, dataKey.byteLength);
    },
  };
};

/**
 * The wrapping key kept in a file (32 random bytes, mode 0600), created on first use. It is written
 * whole to a private temporary file and then hard-linked into place, which fails when the file
 * exists: processes starting together agree on one key, and none reads a half-written one.
 */
export const loadOrCreateWrappingKeyFile = (file: string): Uint8Array => {
  try {
    return checkedKey(readFileSync(file), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, randomBytes(32), { flag: 'wx', mode: 0o600 });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
  return checkedKey(readFileSync(file), file);
};

const checkedKey = (bytes: Buffer, file: string): Uint8Array => {
  if (bytes.length !== 32) throw new Error(`${file} must hold exactly 32 bytes (a wrapping key), it holds ${bytes.length}`);
  return new Uint8Array(bytes);
};
