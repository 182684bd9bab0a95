import { LINK_EVENT_TYPE, TOMBSTONE_REVISION, type EventLog, type RecordedEntry } from './eventLog.ts';
import type { EventFilter } from './eventFilter.ts';
import { Rate, type LatencyWindow } from './groupStatistics.ts';
import { originalOf, resolve, type ResolvedEntry } from './messages.ts';

export type ConsumerStrategy = 'DispatchToSingle' | 'RoundRobin' | 'Pinned';

export interface GroupSettings {
  readonly resolveLinks: boolean;
  readonly extraStatistics: boolean;
  /** 0 means messages never time out. */
  readonly messageTimeoutMs: number;
  readonly checkpointAfterMs: number;
  readonly maxRetryCount: number;
  readonly minCheckpointCount: number;
  readonly maxCheckpointCount: number;
  /** 0 means unbounded. */
  readonly maxSubscriberCount: number;
  readonly liveBufferSize: number;
  readonly readBatchSize: number;
  readonly historyBufferSize: number;
  readonly strategy: ConsumerStrategy;
}

/** Where a group starts: inclusive, as on the server (revision N from N, position P from >= P). */
export type GroupStart =
  | { readonly kind: 'start' }
  | { readonly kind: 'end' }
  | { readonly kind: 'revision'; readonly revision: bigint }
  | { readonly kind: 'position'; readonly position: bigint };

/** One event on its way through the group. */
export interface OutstandingMessage {
  readonly resolved: ResolvedEntry;
  /** The id acks and nacks name: the link's when there is one. */
  readonly id: string;
  /** Log index of the original record, which orders checkpoints. */
  readonly logIndex: number;
  readonly retryCount: number;
  /** Replayed from the parked stream: does not hold the checkpoint back. */
  readonly replayed: boolean;
}

/** A connected subscriber, as the group sees it. */
export interface Consumer {
  readonly id: string;
  readonly bufferSize: number;
  readonly connectionName: string;
  readonly from: string;
  /** Who connected (Basic credentials on the call); empty for an anonymous connection. */
  readonly username: string;
  readonly send: (message: OutstandingMessage) => void;
  readonly inFlight: Map<string, { readonly message: OutstandingMessage; readonly deadline: number; readonly sentAt: number }>;
  totalItems: number;
  /** Send-to-ack latencies, kept when the group has extraStatistics. */
  readonly latencies: LatencyWindow;
  readonly rate: Rate;
}

export type NackAction = 'unknown' | 'park' | 'retry' | 'skip' | 'stop';

/** What the service reports about a group (GetInfo, List). */
export interface GroupSnapshot {
  readonly eventSource: string;
  readonly groupName: string;
  readonly settings: GroupSettings;
  readonly start: GroupStart;
  readonly consumers: readonly Consumer[];
  readonly totalItems: number;
  readonly retryBufferCount: number;
  readonly totalInFlight: number;
  readonly parkedCount: number;
  readonly lastCheckpointed: RecordedEntry | undefined;
  readonly lastKnown: RecordedEntry | undefined;
}

export const ALL_STREAM = '$all';
const BOOKKEEPING_PREFIX = '$persistentsubscription-';
const TIMER_INTERVAL_MS = 100;
const PINNED_BUCKETS = 1024;
const encoder = new TextEncoder();

/** FNV-1a: a stable hash of the source stream id for Pinned's buckets. */
const bucketOf = (streamId: string): number => {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(streamId)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash % PINNED_BUCKETS;
};

/**
 * One persistent subscription group: reads the log from its start, hands events to consumers
 * under its strategy and per-consumer buffer size, and tracks acks, retries, timeouts, parking
 * and an in-memory checkpoint. A retry goes ahead of events not yet sent; a message is delivered
 * at most maxRetryCount + 1 times before it is parked.
 */
export class PersistentGroup {
  readonly parkedStream: string;
  private readonly checkpointStream: string;
  private nextIndex = 0;
  private minRevision = 0n;
  private readonly retryQueue: OutstandingMessage[] = [];
  private readonly consumers: Consumer[] = [];
  private readonly pinnedBuckets = new Map<number, string>();
  private roundRobinNext = 0;
  private pumping = false;
  private pumpAgain = false;
  private totalItems = 0;
  /** Group-wide rate since the previous GetInfo/List. */
  readonly rate = new Rate();
  private checkpointIndex: number | null = null;
  private acksSinceCheckpoint = 0;
  private lastCheckpointAt = Date.now();
  private readonly stopListening: () => void;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly log: EventLog,
    readonly eventSource: string,
    readonly groupName: string,
    private settingsValue: GroupSettings,
    private startValue: GroupStart,
    private readonly filter: EventFilter | null,
  ) {
    this.parkedStream = `${BOOKKEEPING_PREFIX}${eventSource}::${groupName}-parked`;
    this.checkpointStream = `${BOOKKEEPING_PREFIX}${eventSource}::${groupName}-checkpoint`;
    this.positionAtStart();
    this.stopListening = log.onAppend(() => this.pump());
    this.timer = setInterval(() => this.tick(), TIMER_INTERVAL_MS);
    this.timer.unref();
  }

  get settings(): GroupSettings {
    return this.settingsValue;
  }

  get isFull(): boolean {
    return this.settingsValue.maxSubscriberCount > 0 && this.consumers.length >= this.settingsValue.maxSubscriberCount;
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.pump();
  }

  /** A consumer that went away: its unacknowledged messages go to the others with retryCount + 1. */
  removeConsumer(consumerId: string): void {
    const index = this.consumers.findIndex((consumer) => consumer.id === consumerId);
    if (index < 0) return;
    const [consumer] = this.consumers.splice(index, 1);
    for (const [bucket, owner] of this.pinnedBuckets) if (owner === consumerId) this.pinnedBuckets.delete(bucket);
    for (const { message } of consumer?.inFlight.values() ?? []) this.retry(message, 'Client was disconnected');
    consumer?.inFlight.clear();
    this.pump();
  }

  ack(consumerId: string, ids: readonly string[]): void {
    const consumer = this.consumers.find((candidate) => candidate.id === consumerId);
    if (consumer === undefined) return;
    for (const id of ids) {
      const held = consumer.inFlight.get(id);
      if (held === undefined) continue;
      consumer.inFlight.delete(id);
      if (this.settingsValue.extraStatistics) consumer.latencies.add(Date.now() - held.sentAt);
      this.acksSinceCheckpoint += 1;
    }
    if (this.acksSinceCheckpoint >= this.settingsValue.maxCheckpointCount) this.checkpoint();
    this.pump();
  }

  nack(consumerId: string, ids: readonly string[], action: NackAction, reason: string): void {
    const consumer = this.consumers.find((candidate) => candidate.id === consumerId);
    if (consumer === undefined) return;
    for (const id of ids) {
      const inFlight = consumer.inFlight.get(id);
      if (inFlight === undefined) continue;
      consumer.inFlight.delete(id);
      switch (action) {
        case 'park':
          this.park(inFlight.message, reason);
          break;
        case 'retry':
        case 'unknown':
          this.retry(inFlight.message, reason);
          break;
        case 'skip':
        case 'stop':
          this.acksSinceCheckpoint += 1;
          break;
      }
    }
    this.pump();
  }

  /** Re-queues parked events in the order they were parked, with retryCount 0. */
  replayParked(limit: bigint | null): void {
    const read = this.log.readStream(this.parkedStream, 'forwards', 'start', limit ?? BigInt(Number.MAX_SAFE_INTEGER));
    if (read.kind !== 'events' || read.events.length === 0) return;
    for (const link of read.events) {
      const target = this.log.resolveLink(link);
      if (target === undefined) continue;
      const resolved = resolve(this.log, target, this.settingsValue.resolveLinks);
      this.retryQueue.push({ resolved, id: originalOf(resolved).id, logIndex: target.logIndex, retryCount: 0, replayed: true });
    }
    const last = read.events.at(-1) as RecordedEntry;
    this.log.setTruncateBefore(this.parkedStream, last.revision + 1n);
    this.pump();
  }

  /**
   * Update and subsystem restarts: connected consumers are dropped by the caller, the group
   * resumes after its checkpoint (or from its start when it has none), and in-flight state is lost.
   */
  restart(settings: GroupSettings, start: GroupStart): void {
    this.settingsValue = settings;
    this.startValue = start;
    this.consumers.length = 0;
    this.pinnedBuckets.clear();
    this.retryQueue.length = 0;
    this.acksSinceCheckpoint = 0;
    if (this.checkpointIndex === null) this.positionAtStart();
    else this.nextIndex = this.checkpointIndex + 1;
  }

  close(): void {
    this.stopListening();
    clearInterval(this.timer);
    this.consumers.length = 0;
  }

  snapshot(): GroupSnapshot {
    const totalInFlight = this.consumers.reduce((total, consumer) => total + consumer.inFlight.size, 0);
    const parked = this.log.readStream(this.parkedStream, 'forwards', 'start', BigInt(Number.MAX_SAFE_INTEGER));
    return {
      eventSource: this.eventSource,
      groupName: this.groupName,
      settings: this.settingsValue,
      start: this.startValue,
      consumers: [...this.consumers],
      totalItems: this.totalItems,
      retryBufferCount: this.retryQueue.length,
      totalInFlight,
      parkedCount: parked.kind === 'events' ? parked.events.length : 0,
      lastCheckpointed: this.checkpointIndex === null ? undefined : this.lastMatchingAtOrBefore(this.checkpointIndex),
      lastKnown: this.lastMatchingAtOrBefore(this.log.size - 1),
    };
  }

  private positionAtStart(): void {
    const start = this.startValue;
    this.minRevision = start.kind === 'revision' ? start.revision : 0n;
    switch (start.kind) {
      case 'start':
      case 'revision':
        this.nextIndex = 0;
        break;
      case 'end':
        this.nextIndex = this.log.size;
        break;
      case 'position':
        this.nextIndex = this.log.indexAtOrAfter(start.position);
        break;
    }
  }

  private matches(entry: RecordedEntry): boolean {
    if (this.eventSource === ALL_STREAM) {
      // The groups' own bookkeeping (parked links, checkpoints) is kept out of `$all` groups.
      if (entry.streamId.startsWith(BOOKKEEPING_PREFIX)) return false;
      return this.filter === null || this.filter.matches(entry);
    }
    return entry.streamId === this.eventSource && entry.revision >= this.minRevision && entry.revision !== TOMBSTONE_REVISION;
  }

  private lastMatchingAtOrBefore(index: number): RecordedEntry | undefined {
    for (let at = index; at >= 0; at -= 1) {
      const entry = this.log.entryAt(at);
      if (entry !== undefined && this.matches(entry)) return entry;
    }
    return undefined;
  }

  /** The next message to hand out, without taking it: retries first, then the log. */
  private peek(): OutstandingMessage | undefined {
    const retry = this.retryQueue[0];
    if (retry !== undefined) return retry;
    while (this.nextIndex < this.log.size) {
      const entry = this.log.entryAt(this.nextIndex) as RecordedEntry;
      if (this.matches(entry)) {
        const resolved = resolve(this.log, entry, this.settingsValue.resolveLinks);
        return { resolved, id: originalOf(resolved).id, logIndex: entry.logIndex, retryCount: 0, replayed: false };
      }
      this.nextIndex += 1;
    }
    return undefined;
  }

  private take(message: OutstandingMessage): void {
    if (this.retryQueue[0] === message) this.retryQueue.shift();
    else this.nextIndex += 1;
  }

  private choose(message: OutstandingMessage): Consumer | undefined {
    const hasRoom = (consumer: Consumer): boolean => consumer.inFlight.size < consumer.bufferSize;
    switch (this.settingsValue.strategy) {
      case 'DispatchToSingle':
        return this.consumers.find(hasRoom);
      case 'RoundRobin': {
        for (let offset = 0; offset < this.consumers.length; offset += 1) {
          const index = (this.roundRobinNext + offset) % this.consumers.length;
          const consumer = this.consumers[index] as Consumer;
          if (!hasRoom(consumer)) continue;
          this.roundRobinNext = index + 1;
          return consumer;
        }
        return undefined;
      }
      case 'Pinned': {
        if (this.consumers.length === 0) return undefined;
        const source = message.resolved.event ?? originalOf(message.resolved);
        const bucket = bucketOf(source.streamId);
        let owner = this.consumers.find((consumer) => consumer.id === this.pinnedBuckets.get(bucket));
        if (owner === undefined) {
          owner = this.leastPinnedConsumer();
          this.pinnedBuckets.set(bucket, owner.id);
        }
        // A full owner holds the queue: a stream's events never overtake each other.
        return hasRoom(owner) ? owner : undefined;
      }
    }
  }

  private leastPinnedConsumer(): Consumer {
    const counts = new Map(this.consumers.map((consumer) => [consumer.id, 0]));
    for (const owner of this.pinnedBuckets.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    return this.consumers.reduce((best, consumer) => ((counts.get(consumer.id) ?? 0) < (counts.get(best.id) ?? 0) ? consumer : best));
  }

  /** Hands out messages while some consumer has room. Re-entrant calls (parking appends) fold in. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (;;) {
          const message = this.peek();
          if (message === undefined) break;
          const consumer = this.choose(message);
          if (consumer === undefined) break;
          this.take(message);
          const deadline = this.settingsValue.messageTimeoutMs > 0 ? Date.now() + this.settingsValue.messageTimeoutMs : Number.POSITIVE_INFINITY;
          consumer.inFlight.set(message.id, { message, deadline, sentAt: Date.now() });
          consumer.totalItems += 1;
          this.totalItems += 1;
          consumer.send(message);
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private retry(message: OutstandingMessage, reason: string): void {
    if (message.retryCount >= this.settingsValue.maxRetryCount) {
      this.park(message, reason === '' ? 'Max retry count reached' : reason);
      return;
    }
    this.retryQueue.push({ ...message, retryCount: message.retryCount + 1 });
  }

  /** A `$>` link to the original record, with the metadata the server writes, in the parked stream. */
  private park(message: OutstandingMessage, reason: string): void {
    const original = originalOf(message.resolved);
    this.log.appendSystem(this.parkedStream, [
      {
        id: crypto.randomUUID(),
        type: LINK_EVENT_TYPE,
        contentType: 'application/octet-stream',
        data: encoder.encode(`${original.revision}@${original.streamId}`),
        customMetadata: encoder.encode(JSON.stringify({ Added: new Date().toISOString(), Reason: reason, SubscriptionEventNumber: Number(original.revision) })),
      },
    ]);
    this.acksSinceCheckpoint += 1;
  }

  private tick(): void {
    const now = Date.now();
    for (const consumer of this.consumers) {
      for (const [id, { message, deadline }] of consumer.inFlight) {
        if (deadline > now) continue;
        consumer.inFlight.delete(id);
        this.retry(message, 'Message timeout');
      }
    }
    const due = now - this.lastCheckpointAt >= this.settingsValue.checkpointAfterMs;
    if (due && this.acksSinceCheckpoint >= Math.max(1, this.settingsValue.minCheckpointCount)) this.checkpoint();
    this.pump();
  }

  /** Everything below the oldest message still outstanding (or not yet sent) is done. */
  private checkpoint(): void {
    let lowest = this.nextIndex;
    for (const message of this.retryQueue) if (!message.replayed) lowest = Math.min(lowest, message.logIndex);
    for (const consumer of this.consumers) {
      for (const { message } of consumer.inFlight.values()) if (!message.replayed) lowest = Math.min(lowest, message.logIndex);
    }
    this.acksSinceCheckpoint = 0;
    this.lastCheckpointAt = Date.now();
    const candidate = lowest - 1;
    if (candidate < 0 || candidate === this.checkpointIndex) return;
    const last = this.lastMatchingAtOrBefore(candidate);
    this.checkpointIndex = candidate;
    if (last === undefined) return;
    const value = this.eventSource === ALL_STREAM ? `"C:${last.position}/P:${last.position}"` : last.revision.toString();
    this.log.appendSystem(this.checkpointStream, [
      { id: crypto.randomUUID(), type: '$SubscriptionCheckpoint', contentType: 'application/json', data: encoder.encode(value), customMetadata: new Uint8Array() },
    ]);
  }
}
