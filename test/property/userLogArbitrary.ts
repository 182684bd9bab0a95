import fc from 'fast-check';
import type { StoredEvent } from '#ports/eventStore';
import type { ReadModelReader, UserView } from '#ports/readModels';
import type { UserStatus } from '#domain/userState';

/** A valid log of user events, with everything a reader could be asked about it. */
export interface UserLog {
  /** In log order, positions 1, 2, 3…; revisions per stream from 0. */
  readonly events: readonly StoredEvent[];
  readonly userIds: readonly string[];
  /** Every address any user held at some point (and a few never used). */
  readonly addresses: readonly string[];
}

interface Op {
  readonly user: number;
  readonly roll: number;
  readonly address: number;
  readonly v1: boolean;
}

const idOf = (prefix: string, n: number): string => `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/**
 * Any valid log over a few users: registrations, email changes (some stored as schema v1),
 * verifications, suspensions, reactivations and erasures (an erased user's stream ends
 * there and its address is free again), interleaved across streams as live traffic is. Addresses come from a small pool and are unique among current holders at every position,
 * so released addresses are taken over by others — the hard case for the email index.
 */
export const validUserLog = (options: { readonly maxUsers: number; readonly maxEvents: number }): fc.Arbitrary<UserLog> =>
  fc
    .record({
      users: fc.integer({ min: 1, max: options.maxUsers }),
      ops: fc.array(fc.record({ user: fc.nat(), roll: fc.nat(99), address: fc.nat(), v1: fc.boolean() }), { minLength: 1, maxLength: options.maxEvents }),
      run: fc.nat(0xffffff),
    })
    .map(({ users, ops, run }) => buildLog(users, ops, run));

const buildLog = (userCount: number, ops: readonly Op[], run: number): UserLog => {
  const tag = run.toString(16).padStart(8, '0');
  const userIds = Array.from({ length: userCount }, (_, n) => idOf(tag, n));
  const addresses = Array.from({ length: userCount + 2 }, (_, n) => `a${n}.${tag}@example.com`);
  const state = userIds.map(() => ({ revision: -1, email: '', suspended: false, verified: false, erased: false }));
  const events: StoredEvent[] = [];
  let clock = Date.UTC(2026, 0, 1);
  const held = (address: string): boolean => state.some((user) => user.revision >= 0 && !user.erased && user.email === address);

  for (const op of ops) {
    const index = op.user % userCount;
    const user = state[index]!;
    const userId = userIds[index]!;
    const address = addresses[op.address % addresses.length]!;
    // Equal times now and then: the order key breaks ties by id.
    clock += op.roll % 3 === 0 ? 0 : 1_000;
    const at = new Date(clock).toISOString();
    let type: string;
    let data: Record<string, unknown>;
    let schemaVersion = 1;
    // An erased user's stream ends with its erasure.
    if (user.erased) continue;
    if (user.revision < 0) {
      if (held(address)) continue;
      type = 'UserRegistered';
      data = { userId, email: address, displayName: `User ${index}`, registeredAt: at };
      user.email = address;
    } else if (op.roll >= 95) {
      type = 'UserErased';
      data = { userId, erasedAt: at };
      user.erased = true;
    } else if (user.suspended) {
      if (op.roll < 50) continue;
      type = 'UserReactivated';
      data = { userId, reactivatedAt: at };
      user.suspended = false;
    } else if (op.roll < 40) {
      if (held(address)) continue;
      type = 'EmailChanged';
      data = op.v1 ? { userId, email: address, changedAt: at } : { userId, email: address, changedAt: at, verified: false };
      schemaVersion = op.v1 ? 1 : 2;
      user.email = address;
      user.verified = false;
    } else if (op.roll < 65) {
      if (user.verified) continue;
      type = 'EmailVerified';
      data = { userId, email: user.email, verifiedAt: at };
      user.verified = true;
    } else {
      type = 'UserSuspended';
      data = { userId, reason: 'spam', suspendedAt: at };
      user.suspended = true;
    }
    user.revision += 1;
    const position = BigInt(events.length + 1);
    events.push({
      id: idOf('e0000000', events.length),
      streamId: `user-${userId}`,
      type,
      revision: BigInt(user.revision),
      position,
      data: data as StoredEvent['data'],
      metadata: { schemaVersion },
      recordedAt: new Date(clock),
    });
  }
  return { events, userIds, addresses };
};

const plainView = (view: UserView | null): unknown => (view === null ? null : { ...view, revision: String(view.revision), position: String(view.position) });

const everyPage = async (readModels: ReadModelReader, status: UserStatus | undefined): Promise<string[][]> => {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page = await readModels.listUsers({ limit: 3, cursor, ...(status === undefined ? {} : { status }) });
    pages.push(page.items.map((item) => item.id));
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 100);
  return pages;
};

/** Everything a reader can observe about the log's users, in a form JSON can compare. */
export interface Snapshot {
  readonly users: unknown;
  readonly applied: readonly (string | null)[];
  readonly emails: readonly (string | null)[];
  readonly active: number;
  readonly suspended: number;
  readonly pages: unknown;
  readonly checkpoint: string | null;
}

export const readModelSnapshot = async (readModels: ReadModelReader, log: UserLog): Promise<Snapshot> => ({
  users: (await Promise.all(log.userIds.map((id) => readModels.getUser(id)))).map(plainView),
  applied: (await Promise.all(log.userIds.map((id) => readModels.getAppliedRevision(`user-${id}`)))).map((revision) => (revision === null ? null : String(revision))),
  emails: await Promise.all(log.addresses.map((address) => readModels.findUserIdByEmail(address))),
  active: await readModels.countUsers('active'),
  suspended: await readModels.countUsers('suspended'),
  pages: { all: await everyPage(readModels, undefined), active: await everyPage(readModels, 'active'), suspended: await everyPage(readModels, 'suspended') },
  checkpoint: await readModels.getCheckpoint().then((checkpoint) => (checkpoint === null ? null : String(checkpoint))),
});
