import { randomUUID } from 'node:crypto';
import type { DeliveredEvent } from '#ports/eventSource';
import type { EventMetadata, NewEvent, StoredEvent } from '#ports/eventStore';

/** One command's append: what a real Chronicle command writes to a user stream. */
export interface TrafficAppend {
  readonly streamId: string;
  readonly event: NewEvent;
}

export interface TrafficMix {
  readonly registration: number;
  readonly emailChange: number;
  readonly verification: number;
  readonly suspension: number;
  readonly reactivation: number;
}

/** Mostly registrations, some email changes and verifications, a few suspensions and reactivations. */
export const REAL_TRAFFIC: TrafficMix = { registration: 0.55, emailChange: 0.2, verification: 0.1, suspension: 0.08, reactivation: 0.07 };

/** Deterministic PRNG (mulberry32), so a seed reproduces a log. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

interface UserSim {
  readonly userId: string;
  readonly streamId: string;
  email: string;
  suspended: boolean;
  verified: boolean;
}

const metadata = (schemaVersion: number, at: string): EventMetadata => {
  const commandId = randomUUID();
  return { schemaVersion, $correlationId: commandId, $causationId: commandId, commandId, occurredAt: at };
};

/**
 * `count` appends of one event each, interleaved over many user streams as live traffic would
 * be, and valid for the decider (no suspending a suspended user, verification of the current
 * email). Some EmailChanged are stored as schema v1 (no `verified`) to exercise the upcaster.
 */
export function* generateUserTraffic(count: number, options: { readonly seed?: number; readonly mix?: TrafficMix; readonly startMs?: number } = {}): Generator<TrafficAppend> {
  const random = seededRandom(options.seed ?? 1);
  const mix = options.mix ?? REAL_TRAFFIC;
  const users: UserSim[] = [];
  let clock = options.startMs ?? Date.UTC(2024, 0, 1);
  const pick = (): UserSim => users[Math.floor(random() * users.length)]!;

  for (let i = 0; i < count; i++) {
    clock += 1 + Math.floor(random() * 5);
    const at = new Date(clock).toISOString();
    let roll = random();
    if (users.length === 0) roll = 0;
    if ((roll -= mix.registration) < 0) {
      const userId = randomUUID();
      const user: UserSim = { userId, streamId: `user-${userId}`, email: `u${i}.${userId.slice(0, 8)}@example.com`, suspended: false, verified: false };
      users.push(user);
      yield {
        streamId: user.streamId,
        event: { id: randomUUID(), type: 'UserRegistered', data: { userId, email: user.email, displayName: `User ${i}`, registeredAt: at }, metadata: metadata(1, at) },
      };
      continue;
    }
    const user = pick();
    const { userId, streamId } = user;
    if (user.suspended) {
      user.suspended = false;
      yield { streamId, event: { id: randomUUID(), type: 'UserReactivated', data: { userId, reactivatedAt: at }, metadata: metadata(1, at) } };
    } else if ((roll -= mix.emailChange) < 0) {
      user.email = `c${i}.${userId.slice(0, 8)}@example.com`;
      user.verified = false;
      const v1 = random() < 0.2;
      yield {
        streamId,
        event: v1
          ? { id: randomUUID(), type: 'EmailChanged', data: { userId, email: user.email, changedAt: at }, metadata: metadata(1, at) }
          : { id: randomUUID(), type: 'EmailChanged', data: { userId, email: user.email, changedAt: at, verified: false }, metadata: metadata(2, at) },
      };
    } else if ((roll -= mix.verification) < 0 && !user.verified) {
      user.verified = true;
      yield { streamId, event: { id: randomUUID(), type: 'EmailVerified', data: { userId, email: user.email, verifiedAt: at }, metadata: metadata(1, at) } };
    } else {
      user.suspended = true;
      yield { streamId, event: { id: randomUUID(), type: 'UserSuspended', data: { userId, reason: 'terms of service', suspendedAt: at }, metadata: metadata(1, at) } };
    }
  }
}

/** The same traffic as the log would store it (positions from 1), without an event store. */
export function* storedTraffic(appends: Iterable<TrafficAppend>): Generator<StoredEvent> {
  const revisions = new Map<string, bigint>();
  let position = 0n;
  for (const { streamId, event } of appends) {
    const revision = (revisions.get(streamId) ?? -1n) + 1n;
    revisions.set(streamId, revision);
    position++;
    yield {
      id: event.id,
      streamId,
      type: event.type,
      revision,
      position,
      data: event.data,
      metadata: { ...event.metadata },
      recordedAt: new Date(String(event.metadata.occurredAt)),
    };
  }
}

export const delivered = (event: StoredEvent, retryCount = 0): DeliveredEvent => ({ event, retryCount });
