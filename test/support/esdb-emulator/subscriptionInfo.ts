import type { RecordedEntry } from './eventLog.ts';
import type { Rate } from './groupStatistics.ts';
import { ALL_STREAM, type GroupSnapshot } from './persistentGroup.ts';
import { persistentPb } from './protos.ts';

type SubscriptionInfo = InstanceType<typeof persistentPb.SubscriptionInfo>;

const positionText = (entry: RecordedEntry): string => `C:${entry.position}/P:${entry.position}`;

/** "0"/"-1"/N for streams, "C:0/P:0"/"C:-1/P:-1"/"C:c/P:p" for `$all`, as the client parses them. */
export const startFromText = (snapshot: GroupSnapshot): string => {
  const all = snapshot.eventSource === ALL_STREAM;
  switch (snapshot.start.kind) {
    case 'start':
      return all ? 'C:0/P:0' : '0';
    case 'end':
      return all ? 'C:-1/P:-1' : '-1';
    case 'revision':
      return snapshot.start.revision.toString();
    case 'position':
      return `C:${snapshot.start.position}/P:${snapshot.start.position}`;
  }
};

const eventPositionText = (snapshot: GroupSnapshot, entry: RecordedEntry | undefined): string =>
  entry === undefined ? '' : snapshot.eventSource === ALL_STREAM ? positionText(entry) : entry.revision.toString();

/** Each call is one measurement: rates are since the previous GetInfo or List of the group. */
export const subscriptionInfoOf = (snapshot: GroupSnapshot, rate: Rate): SubscriptionInfo => {
  const { settings } = snapshot;
  const now = Date.now();
  const measured = rate.measure(snapshot.totalItems, now);
  const info = new persistentPb.SubscriptionInfo()
    .setEventSource(snapshot.eventSource)
    .setGroupName(snapshot.groupName)
    .setStatus('Live')
    .setAveragePerSecond(measured.averagePerSecond)
    .setTotalItems(String(snapshot.totalItems))
    .setCountSinceLastMeasurement(String(measured.countSinceLastMeasurement))
    .setLastCheckpointedEventPosition(eventPositionText(snapshot, snapshot.lastCheckpointed))
    .setLastKnownEventPosition(eventPositionText(snapshot, snapshot.lastKnown))
    .setResolveLinkTos(settings.resolveLinks)
    .setStartFrom(startFromText(snapshot))
    .setMessageTimeoutMilliseconds(settings.messageTimeoutMs)
    .setExtraStatistics(settings.extraStatistics)
    .setMaxRetryCount(settings.maxRetryCount)
    .setLiveBufferSize(settings.liveBufferSize)
    .setBufferSize(settings.historyBufferSize)
    .setReadBatchSize(settings.readBatchSize)
    .setCheckPointAfterMilliseconds(settings.checkpointAfterMs)
    .setMinCheckPointCount(settings.minCheckpointCount)
    .setMaxCheckPointCount(settings.maxCheckpointCount)
    .setReadBufferCount(0)
    .setLiveBufferCount('0')
    .setRetryBufferCount(snapshot.retryBufferCount)
    .setTotalInFlightMessages(snapshot.totalInFlight)
    .setOutstandingMessagesCount(snapshot.totalInFlight)
    .setNamedConsumerStrategy(settings.strategy)
    .setMaxSubscriberCount(settings.maxSubscriberCount)
    .setParkedMessageCount(String(snapshot.parkedCount));
  for (const consumer of snapshot.consumers) {
    const connectionRate = consumer.rate.measure(consumer.totalItems, now);
    const connection = new persistentPb.SubscriptionInfo.ConnectionInfo()
      .setFrom(consumer.from)
      .setUsername(consumer.username)
      .setAverageItemsPerSecond(connectionRate.averagePerSecond)
      .setTotalItems(String(consumer.totalItems))
      .setCountSinceLastMeasurement(String(connectionRate.countSinceLastMeasurement))
      .setAvailableSlots(Math.max(0, consumer.bufferSize - consumer.inFlight.size))
      .setInFlightMessages(consumer.inFlight.size)
      .setConnectionName(consumer.connectionName);
    if (settings.extraStatistics) {
      for (const [key, value] of consumer.latencies.measurements()) {
        connection.addObservedMeasurements(new persistentPb.SubscriptionInfo.Measurement().setKey(key).setValue(String(value)));
      }
    }
    info.addConnections(connection);
  }
  return info;
};
