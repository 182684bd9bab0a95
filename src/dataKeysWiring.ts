import type { EventStoreDBClient } from '@eventstore/db-client';
import { aesGcmPersonalDataKey, newDataKey } from '#adapters/crypto/aesGcmPersonalDataKey';
import { createLocalKeyWrapper, loadOrCreateWrappingKeyFile } from '#adapters/crypto/localKeyWrapper';
import { createUserKeys, type UserKeys } from '#application/userKeys';
import { storeNotInUse, type DataKeysConfig } from '#config';
import type { DataKeyStore, KeyWrapper } from '#ports/dataKeys';

/** Configuration → key wrapper: KMS on AWS (its SDK loaded on first use), a local wrapping key elsewhere. */
export const keyWrapperFor = async (wrapping: DataKeysConfig['wrapping']): Promise<KeyWrapper> => {
  switch (wrapping.kind) {
    case 'kms': {
      const { createKmsKeyWrapper } = await import('#adapters/kms/kmsKeyWrapper');
      return createKmsKeyWrapper({ keyArn: wrapping.keyArn });
    }
    case 'local-key':
      return createLocalKeyWrapper(wrapping.key);
    case 'local-file':
      return createLocalKeyWrapper(loadOrCreateWrappingKeyFile(wrapping.path));
  }
};

/** Configuration → key store: key streams beside the events on EventStoreDB (its client passed in), else keys.sqlite. */
export const openDataKeyStore = async (settings: DataKeysConfig, esdbClient: EventStoreDBClient | null): Promise<DataKeyStore> => {
  if (settings.store.kind === 'unused') throw storeNotInUse('eventstore');
  const wrapper = await keyWrapperFor(settings.wrapping);
  if (settings.store.kind === 'eventstoredb') {
    if (esdbClient === null) throw new Error('the EventStoreDB key store needs the EventStoreDB client');
    const { createEventStoreDBDataKeyStore } = await import('#adapters/eventstoredb/eventStoreDBDataKeyStore');
    return createEventStoreDBDataKeyStore(esdbClient, { wrapper });
  }
  const { createSqliteDataKeyStore } = await import('#adapters/sqlite/sqliteDataKeyStore');
  return createSqliteDataKeyStore({ path: settings.store.path, wrapper });
};

/** A key store → the use cases' view of it: AES-256-GCM keys, cached with the configured bound. */
export const userKeysFor = (store: DataKeyStore, settings: DataKeysConfig): UserKeys =>
  createUserKeys({ store, open: aesGcmPersonalDataKey, generate: newDataKey, cache: settings.cache });
