import type { EventLog } from './eventLog.ts';
import type { GroupSnapshot } from './persistentGroup.ts';
import { startFromText } from './subscriptionInfo.ts';
import { recordPersistentConfig, type PersistentConfigEntry } from './systemRecords.ts';

const entryOf = (snapshot: GroupSnapshot): PersistentConfigEntry => {
  const { settings } = snapshot;
  return {
    stream: snapshot.eventSource,
    group: snapshot.groupName,
    resolveLinkTos: settings.resolveLinks,
    extraStatistics: settings.extraStatistics,
    messageTimeout: settings.messageTimeoutMs,
    startPosition: startFromText(snapshot),
    liveBufferSize: settings.liveBufferSize,
    historyBufferSize: settings.historyBufferSize,
    maxRetryCount: settings.maxRetryCount,
    readBatchSize: settings.readBatchSize,
    checkPointAfter: settings.checkpointAfterMs,
    minCheckPointCount: settings.minCheckpointCount,
    maxCheckPointCount: settings.maxCheckpointCount,
    maxSubscriberCount: settings.maxSubscriberCount,
    namedConsumerStrategy: settings.strategy,
  };
};

/** After a create, update or delete: the whole configuration, as the server saves it. */
export const saveConfiguration = (log: EventLog, groups: readonly { snapshot(): GroupSnapshot }[]): void =>
  recordPersistentConfig(
    log,
    groups.map((group) => entryOf(group.snapshot())),
  );
