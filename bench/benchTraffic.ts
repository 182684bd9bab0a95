import type { StoredEvent } from '#ports/eventStore';
import { seededRandom } from '#test/support/userTraffic';

/**
 * Realistic traffic as a subscription receives it off the wire: data and metadata still JSON
 * text, so that decoding is part of what the projector is measured on. Generated lazily and
 * cheaply (ids from a counter, not randomUUID) so that a million events neither sit in memory
 * nor cost more to make than to project.
 */
export interface WireEvent {
  readonly id: string;
  readonly streamId: string;
  readonly type: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly data: string;
  readonly metadata: string;
  readonly recordedAt: number;
}

interface UserSim {
  readonly userId: string;
  revision: bigint;
  email: string;
  suspended: boolean;
  verified: boolean;
}

// Recent users are the active ones; older ones drop out of the window (and out of memory).
const ACTIVE_WINDOW = 50_000;

export interface TrafficShape {
  /** Share of events that register a new user (default 0.55, ~1.8 events per user; 0.25 gives ~4). */
  readonly registrationShare?: number;
}

/**
 * Seals an event's personal fields as the command side does (answers the stored `data` object's
 * JSON text); omitted, the traffic is plaintext, as written before encryption.
 */
export type SealTraffic = (userId: string, type: string, data: Record<string, string | boolean>) => string;

export function* wireTraffic(count: number, seed: number, seal?: SealTraffic, shape: TrafficShape = {}): Generator<WireEvent> {
  const dataOf = (userId: string, type: string, data: Record<string, string | boolean>, plaintext: string): string =>
    seal === undefined ? plaintext : seal(userId, type, data);
  const registrationShare = shape.registrationShare ?? 0.55;
  // The other kinds keep their proportions of what is left.
  const scale = (1 - registrationShare) / 0.45;
  const random = seededRandom(seed);
  const run = (seed >>> 0).toString(16).padStart(8, '0');
  const uuid = (kind: string, n: number): string => `${run}-${kind}-4000-8000-${n.toString(16).padStart(12, '0')}`;
  const window: UserSim[] = [];
  let registered = 0;
  let clock = Date.UTC(2024, 0, 1);

  for (let i = 0; i < count; i++) {
    clock += 1 + Math.floor(random() * 5);
    const at = new Date(clock).toISOString();
    const roll = random();
    const id = uuid('0e0e', i);
    const position = BigInt(i + 1);
    const metadata = (schemaVersion: number): string =>
      `{"schemaVersion":${schemaVersion},"$correlationId":"${id}","$causationId":"${id}","commandId":"${id}","occurredAt":"${at}"}`;

    if (window.length === 0 || roll < registrationShare) {
      const userId = uuid('0a0a', registered++);
      const user: UserSim = { userId, revision: 0n, email: `u${i}@example.com`, suspended: false, verified: false };
      if (window.length < ACTIVE_WINDOW) window.push(user);
      else window[Math.floor(random() * ACTIVE_WINDOW)] = user;
      yield {
        id,
        streamId: `user-${userId}`,
        type: 'UserRegistered',
        revision: 0n,
        position,
        data: dataOf(
          userId,
          'UserRegistered',
          { userId, email: user.email, displayName: `User ${i}`, registeredAt: at },
          `{"userId":"${userId}","email":"${user.email}","displayName":"User ${i}","registeredAt":"${at}"}`,
        ),
        metadata: metadata(1),
        recordedAt: clock,
      };
      continue;
    }
    const user = window[Math.floor(random() * window.length)]!;
    user.revision++;
    const base = { id, streamId: `user-${user.userId}`, revision: user.revision, position, recordedAt: clock };
    if (user.suspended) {
      user.suspended = false;
      yield { ...base, type: 'UserReactivated', data: `{"userId":"${user.userId}","reactivatedAt":"${at}"}`, metadata: metadata(1) };
    } else if (roll < registrationShare + 0.2 * scale) {
      user.email = `c${i}@example.com`;
      user.verified = false;
      // One in five stored as v1 (no `verified`): the upcaster runs on those.
      // Sealed traffic is written at the current version only (encryption came after v2).
      yield random() < 0.2 && seal === undefined
        ? { ...base, type: 'EmailChanged', data: `{"userId":"${user.userId}","email":"${user.email}","changedAt":"${at}"}`, metadata: metadata(1) }
        : {
            ...base,
            type: 'EmailChanged',
            data: dataOf(
              user.userId,
              'EmailChanged',
              { userId: user.userId, email: user.email, changedAt: at, verified: false },
              `{"userId":"${user.userId}","email":"${user.email}","changedAt":"${at}","verified":false}`,
            ),
            metadata: metadata(2),
          };
    } else if (roll < registrationShare + 0.3 * scale && !user.verified) {
      user.verified = true;
      yield {
        ...base,
        type: 'EmailVerified',
        data: dataOf(user.userId, 'EmailVerified', { userId: user.userId, email: user.email, verifiedAt: at }, `{"userId":"${user.userId}","email":"${user.email}","verifiedAt":"${at}"}`),
        metadata: metadata(1),
      };
    } else {
      user.suspended = true;
      yield {
        ...base,
        type: 'UserSuspended',
        data: dataOf(
          user.userId,
          'UserSuspended',
          { userId: user.userId, reason: 'terms of service', suspendedAt: at },
          `{"userId":"${user.userId}","reason":"terms of service","suspendedAt":"${at}"}`,
        ),
        metadata: metadata(1),
      };
    }
  }
}

/** What every source does with an event off the wire: parse its JSON. */
export const decodeWireEvent = (wire: WireEvent): StoredEvent => ({
  id: wire.id,
  streamId: wire.streamId,
  type: wire.type,
  revision: wire.revision,
  position: wire.position,
  data: JSON.parse(wire.data) as StoredEvent['data'],
  metadata: JSON.parse(wire.metadata) as StoredEvent['metadata'],
  recordedAt: new Date(wire.recordedAt),
});
