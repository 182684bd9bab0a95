import { randomBytes } from 'node:crypto';
import { aesGcmPersonalDataKey, newDataKey } from '#adapters/crypto/aesGcmPersonalDataKey';
import { createLocalKeyWrapper } from '#adapters/crypto/localKeyWrapper';
import { createMemoryDataKeyStore } from '#adapters/memory/memoryDataKeyStore';
import { createUserKeys, type UserKeys } from '#application/userKeys';
import type { DataKeyStore } from '#ports/dataKeys';

/** Users' data keys for unit tests: the real cipher over the in-memory key store. */
export const memoryUserKeys = (store: DataKeyStore = createMemoryDataKeyStore(createLocalKeyWrapper(randomBytes(32)))): UserKeys & { readonly store: DataKeyStore } => ({
  ...createUserKeys({ store, open: aesGcmPersonalDataKey, generate: newDataKey }),
  store,
});
