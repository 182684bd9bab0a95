import { eventFilterOf, type EventFilter } from './eventFilter.ts';
import { streamNameOf } from './messages.ts';
import { ALL_STREAM, type ConsumerStrategy, type GroupSettings, type GroupStart } from './persistentGroup.ts';
import { persistentPb } from './protos.ts';

type CreateOptions = InstanceType<typeof persistentPb.CreateReq.Options>;
type UpdateOptions = InstanceType<typeof persistentPb.UpdateReq.Options>;
type CreateSettings = InstanceType<typeof persistentPb.CreateReq.Settings>;
type UpdateSettings = InstanceType<typeof persistentPb.UpdateReq.Settings>;

/** `18446744073709551615` (uint64 max) is how the client says "from the end" for a stream. */
const END_REVISION = '18446744073709551615';
const TICKS_PER_MS = 10_000;

export interface GroupDefinition {
  readonly eventSource: string;
  readonly groupName: string;
  readonly settings: GroupSettings;
  readonly start: GroupStart;
  readonly filter: EventFilter | null;
}

const strategyOf = (settings: CreateSettings | UpdateSettings): ConsumerStrategy => {
  const named = 'getConsumerStrategy' in settings ? settings.getConsumerStrategy() : '';
  if (named === 'DispatchToSingle' || named === 'RoundRobin') return named;
  if (named.startsWith('Pinned')) return 'Pinned';
  switch (settings.getNamedConsumerStrategy()) {
    case persistentPb.CreateReq.ConsumerStrategy.DISPATCHTOSINGLE:
      return 'DispatchToSingle';
    case persistentPb.CreateReq.ConsumerStrategy.PINNED:
      return 'Pinned';
    default:
      return 'RoundRobin';
  }
};

const settingsOf = (settings: CreateSettings | UpdateSettings | undefined): GroupSettings => ({
  resolveLinks: settings?.getResolveLinks() ?? false,
  extraStatistics: settings?.getExtraStatistics() ?? false,
  messageTimeoutMs:
    settings?.getMessageTimeoutCase() === persistentPb.CreateReq.Settings.MessageTimeoutCase.MESSAGE_TIMEOUT_TICKS
      ? Number(settings.getMessageTimeoutTicks()) / TICKS_PER_MS
      : (settings?.getMessageTimeoutMs() ?? 30_000),
  checkpointAfterMs:
    settings?.getCheckpointAfterCase() === persistentPb.CreateReq.Settings.CheckpointAfterCase.CHECKPOINT_AFTER_TICKS
      ? Number(settings.getCheckpointAfterTicks()) / TICKS_PER_MS
      : (settings?.getCheckpointAfterMs() ?? 2_000),
  maxRetryCount: settings?.getMaxRetryCount() ?? 10,
  minCheckpointCount: settings?.getMinCheckpointCount() ?? 10,
  maxCheckpointCount: settings?.getMaxCheckpointCount() ?? 1_000,
  maxSubscriberCount: settings?.getMaxSubscriberCount() ?? 0,
  liveBufferSize: settings?.getLiveBufferSize() ?? 500,
  readBatchSize: settings?.getReadBatchSize() ?? 20,
  historyBufferSize: settings?.getHistoryBufferSize() ?? 500,
  strategy: settings === undefined ? 'RoundRobin' : strategyOf(settings),
});

const revisionStart = (revision: string): GroupStart =>
  revision === END_REVISION ? { kind: 'end' } : revision === '' || revision === '0' ? { kind: 'start' } : { kind: 'revision', revision: BigInt(revision) };

/** Create and Update share one shape; the stream comes top-level (client 6.x) or in `stream`. */
export const groupDefinitionOf = (options: CreateOptions | UpdateOptions): GroupDefinition => {
  const settings = settingsOf(options.getSettings());
  const groupName = options.getGroupName();
  const all = options.getAll();
  if (all !== undefined) {
    const position = all.getPosition();
    const start: GroupStart = all.hasEnd()
      ? { kind: 'end' }
      : position !== undefined
        ? { kind: 'position', position: BigInt(position.getCommitPosition()) }
        : { kind: 'start' };
    const filter = 'getFilter' in all && all.hasFilter() ? eventFilterOf(all.getFilter()) : null;
    return { eventSource: ALL_STREAM, groupName, settings, start, filter };
  }
  const stream = options.getStream();
  if (stream !== undefined) {
    const start: GroupStart = stream.hasEnd() ? { kind: 'end' } : stream.hasRevision() ? revisionStart(stream.getRevision()) : { kind: 'start' };
    return { eventSource: streamNameOf(stream.getStreamIdentifier()), groupName, settings, start, filter: null };
  }
  return {
    eventSource: streamNameOf(options.getStreamIdentifier()),
    groupName,
    settings,
    start: revisionStart(options.getSettings()?.getRevision() ?? ''),
    filter: null,
  };
};
