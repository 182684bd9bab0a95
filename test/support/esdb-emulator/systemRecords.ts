import type { EventLog, ProposedEvent } from './eventLog.ts';
import { METADATA_EVENT_TYPE } from './eventLog.ts';

/*
 * The records a real node writes into `$all` of its own accord (EventStoreDB 24.10, names from
 * SystemStreams / SystemEventTypes in the server's sources), so that readers of `$all` meet
 * them here as they would there:
 *
 * - on start: the epoch information (`$epoch-information` in `$epoch-information`, JSON of the
 *   epoch record), the `$scavenges` history's metadata (`$maxAge` 30 days, `$ops` may read) and
 *   the stats stream's metadata (`$maxAge` 24 h);
 * - every StatsPeriodSec (30 s): a `$statsCollected` event in `$stats-<node endpoint>`;
 * - on every persistent-subscription create, update and delete: the whole configuration as a
 *   `$PersistentConfig` event in `$persistentSubscriptionConfig`.
 *
 * The epoch record itself and the chunk headers are not events (no reader sees them) and are
 * not modelled; positions stay the emulator's own.
 */

export const EPOCH_INFORMATION = '$epoch-information';
export const SCAVENGES_STREAM = '$scavenges';
export const STATS_STREAM_PREFIX = '$stats-';
export const STATS_COLLECTED = '$statsCollected';
export const PERSISTENT_CONFIG_STREAM = '$persistentSubscriptionConfig';
export const PERSISTENT_CONFIG_EVENT_TYPE = '$PersistentConfig';

/** The server's defaults: ScavengeHistoryMaxAge 30 days, stats kept a day, StatsPeriodSec 30. */
const SCAVENGE_HISTORY_MAX_AGE_SECONDS = 30 * 24 * 3600;
const STATS_MAX_AGE_SECONDS = 24 * 3600;
export const DEFAULT_STATS_PERIOD_MS = 30_000;

const encoder = new TextEncoder();

const json = (type: string, data: unknown): ProposedEvent => ({
  id: crypto.randomUUID(),
  type,
  contentType: 'application/json',
  data: encoder.encode(JSON.stringify(data)),
  customMetadata: new Uint8Array(),
});

export const statsStreamOf = (nodeEndpoint: string): string => `${STATS_STREAM_PREFIX}${nodeEndpoint}`;

/** What a single node writes when it first becomes leader of an empty database. */
export const seedFreshNode = (log: EventLog, nodeEndpoint: string): void => {
  const leaderInstanceId = crypto.randomUUID();
  log.appendSystem(EPOCH_INFORMATION, [
    json(EPOCH_INFORMATION, {
      epochPosition: 0,
      epochNumber: 0,
      epochId: crypto.randomUUID(),
      prevEpochPosition: -1,
      timeStamp: new Date().toISOString(),
      leaderInstanceId,
    }),
  ]);
  log.appendSystem(`$$${SCAVENGES_STREAM}`, [
    json(METADATA_EVENT_TYPE, { $maxAge: SCAVENGE_HISTORY_MAX_AGE_SECONDS, $acl: { $r: '$ops', $w: [], $d: [], $mr: [], $mw: [] } }),
  ]);
  log.appendSystem(`$$${statsStreamOf(nodeEndpoint)}`, [json(METADATA_EVENT_TYPE, { $maxAge: STATS_MAX_AGE_SECONDS })]);
};

/** Writes a `$statsCollected` event every `periodMs` (0: never) until stopped. */
export const startStatsCollection = (log: EventLog, nodeEndpoint: string, periodMs: number): (() => void) => {
  if (periodMs <= 0) return () => undefined;
  const stream = statsStreamOf(nodeEndpoint);
  const started = Date.now();
  const timer = setInterval(() => {
    const memory = process.memoryUsage();
    log.appendSystem(stream, [
      json(STATS_COLLECTED, {
        'proc-startTime': new Date(started).toISOString(),
        'proc-id': process.pid,
        'proc-mem': memory.rss,
        'proc-cpu': 0,
        'proc-threadsCount': 1,
        'es-queue-Storage Writer-length': 0,
        'es-writer-lastFlushSize': 0,
        'es-checksum': log.headPosition === null ? 0 : Number(log.headPosition),
      }),
    ]);
  }, periodMs);
  timer.unref();
  return () => clearInterval(timer);
};

/** One group as the server's configuration lists it (PersistentSubscriptionEntry). */
export interface PersistentConfigEntry {
  readonly stream: string;
  readonly group: string;
  readonly resolveLinkTos: boolean;
  readonly extraStatistics: boolean;
  readonly messageTimeout: number;
  /** The start as the server stores it: a revision for streams, `C:…/P:…` for `$all`. */
  readonly startPosition: string;
  readonly liveBufferSize: number;
  readonly historyBufferSize: number;
  readonly maxRetryCount: number;
  readonly readBatchSize: number;
  readonly checkPointAfter: number;
  readonly minCheckPointCount: number;
  readonly maxCheckPointCount: number;
  readonly maxSubscriberCount: number;
  readonly namedConsumerStrategy: string;
}

/** The server rewrites its whole configuration after every create, update and delete. */
export const recordPersistentConfig = (log: EventLog, entries: readonly PersistentConfigEntry[]): void => {
  log.appendSystem(PERSISTENT_CONFIG_STREAM, [
    json(PERSISTENT_CONFIG_EVENT_TYPE, { version: '2', updated: new Date().toISOString(), updatedBy: '$system', entries }),
  ]);
};
