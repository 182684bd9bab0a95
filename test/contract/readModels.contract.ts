import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUnavailableError, isValidationError } from '#domain/errors';
import type { UserStatus } from '#domain/userState';
import type { ProjectedEvent, ReadModelChange, ReadModels, UserView } from '#ports/readModels';

/** One adapter instance over an empty read model; cleanup removes whatever the test wrote. */
export interface ReadModelsFixture {
  readonly readModels: ReadModels;
  cleanup(): Promise<void>;
}

/** A fixture whose store can be made unreachable (server stopped, database locked…). */
export interface OutageFixture extends ReadModelsFixture {
  beginOutage(): Promise<void>;
  endOutage(): Promise<void>;
  /** Whether the store still holds what was written before the outage once it ends. */
  readonly keepsDataAcrossOutage: boolean;
  /** Whether reads fail too (a stopped server) or go on (SQLite readers under another writer's lock). */
  readonly readsFailDuringOutage: boolean;
}

type UserFields = Omit<UserView, 'revision' | 'position'>;

const newUser = (overrides: Partial<UserFields> = {}): UserFields => {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    email: `${id.slice(0, 8)}@example.com`,
    displayName: `User ${id.slice(0, 8)}`,
    status: 'active',
    emailVerified: false,
    registeredAt: '2024-05-01T10:00:00.000Z',
    ...overrides,
  };
};

const created = (user: UserFields, revision = 0n, position = 1n): ProjectedEvent => ({
  streamId: `user-${user.id}`,
  revision,
  position,
  changes: [{ type: 'userCreated', user }],
});

const erasedEvent = (userId: string, revision: bigint, position: bigint): ProjectedEvent => ({
  streamId: `user-${userId}`,
  revision,
  position,
  changes: [{ type: 'userErased', userId }],
});

const patched = (userId: string, fields: Extract<ReadModelChange, { type: 'userPatched' }>['fields'], revision: bigint, position: bigint): ProjectedEvent => ({
  streamId: `user-${userId}`,
  revision,
  position,
  changes: [{ type: 'userPatched', userId, fields }],
});

/** Everything a reader can observe about some users and their streams. */
const snapshot = async (readModels: ReadModels, userIds: readonly string[]): Promise<unknown> => {
  const users = await Promise.all(userIds.map((id) => readModels.getUser(id)));
  return {
    users,
    applied: await Promise.all(userIds.map((id) => readModels.getAppliedRevision(`user-${id}`))),
    emails: await Promise.all(users.map((u) => (u ? readModels.findUserIdByEmail(u.email) : null))),
    active: await readModels.countUsers('active'),
    suspended: await readModels.countUsers('suspended'),
    list: await readModels.listUsers({ limit: 100 }),
    checkpoint: await readModels.getCheckpoint(),
  };
};

const listAll = async (readModels: ReadModels, limit: number, status?: UserStatus): Promise<UserView[][]> => {
  const pages: UserView[][] = [];
  let cursor: string | null = null;
  do {
    const page = await readModels.listUsers({ limit, cursor, ...(status ? { status } : {}) });
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 100);
  return pages;
};

/** A small deterministic generator (mulberry32), so that a failing case can be replayed from its seed. */
const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/**
 * A valid history of many users interleaved in the log: addresses stay unique at every
 * position, and released ones are taken over by others. Answers the events in log order and
 * what a reader must see once all of them are applied.
 */
const interleavedHistory = (random: () => number, users: number, steps: number) => {
  const tag = randomUUID().slice(0, 8);
  const free = Array.from({ length: users + 8 }, (_, n) => `${tag}-${n}@example.com`);
  const take = (): string => free.splice(Math.floor(random() * free.length), 1)[0]!;
  const lives = Array.from({ length: users }, () => ({ user: newUser(), revision: -1n, position: 0n }));
  const events: ProjectedEvent[] = [];
  for (let position = 1n; events.length < steps; position++) {
    const life = lives[Math.floor(random() * lives.length)]!;
    const revision = life.revision + 1n;
    if (revision === 0n) {
      life.user = { ...life.user, email: take() };
      events.push(created(life.user, 0n, position));
    } else {
      const roll = random();
      const fields: Extract<ReadModelChange, { type: 'userPatched' }>['fields'] =
        roll < 0.4
          ? { email: take(), emailVerified: false }
          : roll < 0.7
            ? { status: life.user.status === 'active' ? 'suspended' : 'active' }
            : roll < 0.85
              ? { displayName: `Name ${position}` }
              : { emailVerified: true };
      if (fields.email !== undefined) free.push(life.user.email);
      life.user = { ...life.user, ...fields };
      events.push(patched(life.user.id, fields, revision, position));
    }
    life.revision = revision;
    life.position = position;
  }
  const views = lives.filter((life) => life.revision >= 0n).map((life): UserView => ({ ...life.user, revision: life.revision, position: life.position }));
  return { events, views, addresses: [...free, ...views.map((view) => view.email)] };
};

/**
 * The ReadModels port's behaviour, the same for every adapter. `setup` gives a fresh, empty
 * read model per test; `outage`, when the adapter can simulate one, a store that goes away.
 */
export const describeReadModelsContract = (name: string, setup: () => Promise<ReadModelsFixture>, outage?: () => Promise<OutageFixture>): void => {
  describe(`read models (${name})`, () => {
    let fixture: ReadModelsFixture | undefined;
    let rm: ReadModels;

    beforeEach(async () => {
      fixture = await setup();
      rm = fixture.readModels;
    });

    afterEach(async () => {
      // Undefined when the test was skipped before setup ran.
      await fixture?.cleanup();
    });

    describe('when empty', () => {
      it('knows no user, email, stream or checkpoint', async () => {
        expect(await rm.getUser(randomUUID())).toBeNull();
        expect(await rm.findUserIdByEmail('nobody@example.com')).toBeNull();
        expect(await rm.getAppliedRevision(`user-${randomUUID()}`)).toBeNull();
        expect(await rm.getCheckpoint()).toBeNull();
        expect(await rm.countUsers('active')).toBe(0);
        expect(await rm.listUsers({ limit: 10 })).toEqual({ items: [], nextCursor: null });
      });
    });

    describe('a created user', () => {
      it('is readable with every field, its revision and its position', async () => {
        const user = newUser({ displayName: 'Ada Lovelace — ✓', emailVerified: true });
        expect(await rm.applyBatch([created(user, 0n, 42n)], 42n)).toEqual(['applied']);
        expect(await rm.getUser(user.id)).toEqual({ ...user, revision: 0n, position: 42n });
        expect(await rm.findUserIdByEmail(user.email)).toBe(user.id);
        expect(await rm.getAppliedRevision(`user-${user.id}`)).toBe(0n);
        expect(await rm.countUsers('active')).toBe(1);
        expect(await rm.countUsers('suspended')).toBe(0);
        expect(await rm.getCheckpoint()).toBe(42n);
      });

      it('keeps 64-bit positions and checkpoints exact', async () => {
        const big = 2n ** 63n - 1n;
        const user = newUser();
        await rm.applyBatch([created(user, 0n, big - 7n)], big);
        expect((await rm.getUser(user.id))?.position).toBe(big - 7n);
        expect(await rm.getCheckpoint()).toBe(big);
      });
    });

    describe('a patched user', () => {
      it('moves between status sets and counts', async () => {
        const [a, b] = [newUser(), newUser()];
        await rm.applyBatch([created(a), created(b, 0n, 2n)], 2n);
        await rm.applyBatch([patched(a.id, { status: 'suspended' }, 1n, 3n)], 3n);
        expect(await rm.getUser(a.id)).toMatchObject({ status: 'suspended', revision: 1n, position: 3n });
        expect(await rm.countUsers('active')).toBe(1);
        expect(await rm.countUsers('suspended')).toBe(1);
        expect((await rm.listUsers({ status: 'suspended', limit: 10 })).items.map((u) => u.id)).toEqual([a.id]);
        expect((await rm.listUsers({ status: 'active', limit: 10 })).items.map((u) => u.id)).toEqual([b.id]);

        await rm.applyBatch([patched(a.id, { status: 'active' }, 2n, 4n)], 4n);
        expect(await rm.countUsers('active')).toBe(2);
        expect(await rm.countUsers('suspended')).toBe(0);
        expect((await rm.listUsers({ status: 'suspended', limit: 10 })).items).toEqual([]);
      });

      it('moves the email index and keeps the other fields', async () => {
        const user = newUser();
        await rm.applyBatch([created(user)], 1n);
        await rm.applyBatch([patched(user.id, { email: 'new@example.com', emailVerified: false }, 1n, 5n)], 5n);
        await rm.applyBatch([patched(user.id, { emailVerified: true, displayName: 'Renamed' }, 2n, 6n)], 6n);
        expect(await rm.getUser(user.id)).toEqual({
          ...user,
          email: 'new@example.com',
          emailVerified: true,
          displayName: 'Renamed',
          revision: 2n,
          position: 6n,
        });
        expect(await rm.findUserIdByEmail(user.email)).toBeNull();
        expect(await rm.findUserIdByEmail('new@example.com')).toBe(user.id);
      });

      it('keeps an address with its newest claim when an older one arrives late, in separate batches or one', async () => {
        for (const together of [false, true]) {
          const address = `claimed-${randomUUID().slice(0, 8)}@example.com`;
          const x = newUser({ email: address });
          const y = newUser({ email: address });
          // Log: x registers with the address (10), x moves away (11), y takes it (12). Delivered 12, 10, 11.
          const late = [created(x, 0n, 10n), patched(x.id, { email: `moved-${x.id}@example.com`, emailVerified: false }, 1n, 11n)];
          if (together) await rm.applyBatch([created(y, 0n, 12n), ...late], 12n);
          else for (const event of [created(y, 0n, 12n), ...late]) await rm.applyBatch([event], event.position);
          expect(await rm.findUserIdByEmail(address)).toBe(y.id);
          expect(await rm.findUserIdByEmail(`moved-${x.id}@example.com`)).toBe(x.id);
        }
      });

      it('leaves an email index entry that another user has taken since', async () => {
        const a = newUser({ email: 'shared@example.com' });
        const b = newUser({ email: 'shared@example.com' });
        await rm.applyBatch([created(a, 0n, 1n)], 1n);
        // b took the address over before a's change of address reached the read model.
        await rm.applyBatch([created(b, 0n, 3n), patched(a.id, { email: 'a-new@example.com' }, 1n, 2n)], 3n);
        expect(await rm.findUserIdByEmail('shared@example.com')).toBe(b.id);
        expect(await rm.findUserIdByEmail('a-new@example.com')).toBe(a.id);
      });

      it('is dropped when the user was never created, yet the event counts as applied', async () => {
        const userId = randomUUID();
        expect(await rm.applyBatch([{ streamId: `user-${userId}`, revision: 0n, position: 1n, changes: [{ type: 'userPatched', userId, fields: { status: 'suspended' } }] }], 1n)).toEqual(['applied']);
        expect(await rm.getUser(userId)).toBeNull();
        expect(await rm.countUsers('suspended')).toBe(0);
        expect(await rm.getAppliedRevision(`user-${userId}`)).toBe(0n);
      });
    });

    describe('an erased user', () => {
      it('is gone from the record, the status sets, the registration order and the email index; only the fact remains', async () => {
        const [gone, kept] = [newUser(), newUser()];
        await rm.applyBatch([created(gone, 0n, 1n), created(kept, 0n, 2n)], 2n);
        expect(await rm.applyBatch([erasedEvent(gone.id, 1n, 3n)], 3n)).toEqual(['applied']);
        expect(await rm.getUser(gone.id)).toBeNull();
        expect(await rm.isUserErased(gone.id)).toBe(true);
        expect(await rm.isUserErased(kept.id)).toBe(false);
        expect(await rm.findUserIdByEmail(gone.email)).toBeNull();
        expect(await rm.countUsers('active')).toBe(1);
        expect((await rm.listUsers({ limit: 10 })).items.map((u) => u.id)).toEqual([kept.id]);
        expect((await rm.listUsers({ status: 'active', limit: 10 })).items.map((u) => u.id)).toEqual([kept.id]);
        expect(await rm.getAppliedRevision(`user-${gone.id}`)).toBe(1n);
        expect(await rm.getUser(kept.id)).toEqual({ ...kept, revision: 0n, position: 2n });
      });

      it('is gone when registered, suspended and erased within one batch', async () => {
        const user = newUser();
        const outcomes = await rm.applyBatch([created(user, 0n, 1n), patched(user.id, { status: 'suspended' }, 1n, 2n), erasedEvent(user.id, 2n, 3n)], 3n);
        expect(outcomes).toEqual(['applied', 'applied', 'applied']);
        expect(await rm.getUser(user.id)).toBeNull();
        expect(await rm.countUsers('suspended')).toBe(0);
        expect(await rm.countUsers('active')).toBe(0);
        expect((await rm.listUsers({ status: 'suspended', limit: 10 })).items).toEqual([]);
        expect(await rm.findUserIdByEmail(user.email)).toBeNull();
      });

      it('leaves its former address to whoever registers it next', async () => {
        const [gone, newcomer] = [newUser(), newUser()];
        await rm.applyBatch([created(gone, 0n, 1n), erasedEvent(gone.id, 1n, 2n), created({ ...newcomer, email: gone.email }, 0n, 3n)], 3n);
        expect(await rm.findUserIdByEmail(gone.email)).toBe(newcomer.id);
      });

      it('counts a redelivered erasure as a duplicate, and an erasure of a user never seen as applied', async () => {
        const [user, unseen] = [newUser(), randomUUID()];
        await rm.applyBatch([created(user, 0n, 1n), erasedEvent(user.id, 1n, 2n)], 2n);
        expect(await rm.applyBatch([erasedEvent(user.id, 1n, 2n)], 2n)).toEqual(['duplicate']);
        expect(await rm.applyBatch([{ streamId: `user-${unseen}`, revision: 0n, position: 3n, changes: [] }, erasedEvent(unseen, 1n, 4n)], 4n)).toEqual([
          'applied',
          'applied',
        ]);
        expect(await rm.isUserErased(unseen)).toBe(true);
        expect(await rm.getUser(unseen)).toBeNull();
      });
    });

    describe('applying events', () => {
      it('applies the next revision, ignores duplicates and holds back events past a gap, within one batch', async () => {
        const user = newUser();
        const outcomes = await rm.applyBatch(
          [
            created(user, 0n, 1n),
            created(user, 0n, 1n),
            patched(user.id, { status: 'suspended' }, 2n, 3n),
            patched(user.id, { displayName: 'Second' }, 1n, 2n),
            patched(user.id, { displayName: 'Second again' }, 1n, 2n),
          ],
          3n,
        );
        expect(outcomes).toEqual(['applied', 'duplicate', 'gap', 'applied', 'duplicate']);
        expect(await rm.getUser(user.id)).toMatchObject({ displayName: 'Second', status: 'active', revision: 1n });
        expect(await rm.getAppliedRevision(`user-${user.id}`)).toBe(1n);
      });

      it('applies an event folded from several of one stream only right after the applied revision', async () => {
        const user = newUser();
        const folded: ProjectedEvent = { ...created({ ...user, status: 'suspended', emailVerified: true }, 2n, 7n), firstRevision: 0n };
        expect(await rm.applyBatch([folded], 7n)).toEqual(['applied']);
        expect(await rm.getUser(user.id)).toMatchObject({ status: 'suspended', emailVerified: true, revision: 2n, position: 7n });
        expect(await rm.countUsers('suspended')).toBe(1);
        expect(await rm.getAppliedRevision(`user-${user.id}`)).toBe(2n);
        const overlapping: ProjectedEvent = { ...patched(user.id, { status: 'active' }, 4n, 9n), firstRevision: 2n };
        const next: ProjectedEvent = { ...patched(user.id, { displayName: 'Folded' }, 4n, 9n), firstRevision: 3n };
        expect(await rm.applyBatch([folded, overlapping, next], 9n)).toEqual(['duplicate', 'gap', 'applied']);
        expect(await rm.getUser(user.id)).toMatchObject({ status: 'suspended', displayName: 'Folded', revision: 4n });
      });

      it('applies events reordered across batches once their predecessors arrive', async () => {
        const user = newUser();
        expect(await rm.applyBatch([created(user, 0n, 1n)], 1n)).toEqual(['applied']);
        expect(await rm.applyBatch([patched(user.id, { status: 'suspended' }, 2n, 3n)], 1n)).toEqual(['gap']);
        expect(await rm.getUser(user.id)).toMatchObject({ status: 'active', revision: 0n });
        expect(await rm.applyBatch([patched(user.id, { emailVerified: true }, 1n, 2n)], 2n)).toEqual(['applied']);
        expect(await rm.applyBatch([patched(user.id, { status: 'suspended' }, 2n, 3n)], 3n)).toEqual(['applied']);
        expect(await rm.getUser(user.id)).toMatchObject({ status: 'suspended', emailVerified: true, revision: 2n, position: 3n });
      });

      it('holds back a first event that is not revision 0, however large its revision', async () => {
        const user = newUser();
        const huge = 2n ** 53n + 1n;
        expect(await rm.applyBatch([created(user, 1n, 1n), created(user, huge, 2n)], null)).toEqual(['gap', 'gap']);
        expect(await rm.getUser(user.id)).toBeNull();
        expect(await rm.getAppliedRevision(`user-${user.id}`)).toBeNull();
      });

      it('compares revisions as numbers past 9', async () => {
        const user = newUser();
        const events = [created(user, 0n, 1n), ...Array.from({ length: 11 }, (_, i) => patched(user.id, { displayName: `v${i + 1}` }, BigInt(i + 1), BigInt(i + 2)))];
        expect(await rm.applyBatch(events, 12n)).toEqual(events.map(() => 'applied'));
        expect(await rm.applyBatch([events[2]!, events[10]!, patched(user.id, { displayName: 'v13' }, 13n, 14n)], 12n)).toEqual(['duplicate', 'duplicate', 'gap']);
        expect(await rm.getUser(user.id)).toMatchObject({ displayName: 'v11', revision: 11n });
      });

      it('changes nothing when a whole batch is delivered again', async () => {
        const [a, b] = [newUser(), newUser({ registeredAt: '2024-05-02T00:00:00.000Z' })];
        const batch = [created(a, 0n, 1n), created(b, 0n, 2n), patched(a.id, { status: 'suspended', email: 'moved@example.com' }, 1n, 3n)];
        await rm.applyBatch(batch, 3n);
        const before = await snapshot(rm, [a.id, b.id]);
        expect(await rm.applyBatch(batch, 3n)).toEqual(['duplicate', 'duplicate', 'duplicate']);
        expect(await snapshot(rm, [a.id, b.id])).toEqual(before);
      });

      it('applies a large batch of many streams, and recognises all of it when delivered again', async () => {
        const users = Array.from({ length: 2500 }, () => newUser());
        const batch = users.map((u, i) => created(u, 0n, BigInt(i + 1)));
        expect(new Set(await rm.applyBatch(batch, 2500n))).toEqual(new Set(['applied']));
        expect(new Set(await rm.applyBatch(batch, 2500n))).toEqual(new Set(['duplicate']));
        expect(await rm.countUsers('active')).toBe(2500);
        expect(await rm.getAppliedRevision(`user-${users[2499]!.id}`)).toBe(0n);
      });

      it('gives the same read model for a user whose whole life is in one batch as when it is spread over batches', async () => {
        const life = (user: UserFields, first: bigint): ProjectedEvent[] => [
          created(user, 0n, first),
          patched(user.id, { email: `${user.id.slice(0, 8)}-2@example.com`, emailVerified: false }, 1n, first + 1n),
          patched(user.id, { status: 'suspended' }, 2n, first + 2n),
          patched(user.id, { emailVerified: true, displayName: 'Renamed' }, 3n, first + 3n),
          patched(user.id, { status: 'active' }, 4n, first + 4n),
          patched(user.id, { email: `${user.id.slice(0, 8)}-3@example.com` }, 5n, first + 5n),
          patched(user.id, { status: 'suspended' }, 6n, first + 6n),
        ];
        const [together, spread] = [newUser(), newUser()];
        expect(await rm.applyBatch(life(together, 1n), 7n)).toEqual(Array(7).fill('applied'));
        for (const event of life(spread, 11n)) expect(await rm.applyBatch([event], event.position)).toEqual(['applied']);
        const [a, b] = [await rm.getUser(together.id), await rm.getUser(spread.id)];
        expect(a).toEqual({ ...together, email: `${together.id.slice(0, 8)}-3@example.com`, emailVerified: true, displayName: 'Renamed', status: 'suspended', revision: 6n, position: 7n });
        expect(b).toEqual({ ...spread, email: `${spread.id.slice(0, 8)}-3@example.com`, emailVerified: true, displayName: 'Renamed', status: 'suspended', revision: 6n, position: 17n });
        for (const user of [together, spread]) {
          expect(await rm.findUserIdByEmail(user.email)).toBeNull();
          expect(await rm.findUserIdByEmail(`${user.id.slice(0, 8)}-2@example.com`)).toBeNull();
          expect(await rm.findUserIdByEmail(`${user.id.slice(0, 8)}-3@example.com`)).toBe(user.id);
        }
        expect(await rm.countUsers('suspended')).toBe(2);
        expect(await rm.countUsers('active')).toBe(0);
        expect((await rm.listUsers({ status: 'suspended', limit: 10 })).items.map((u) => u.id).sort()).toEqual([together.id, spread.id].sort());
        expect((await rm.listUsers({ status: 'active', limit: 10 })).items).toEqual([]);
      });

      it('moves a user back to where it started within one batch without leaving it out of any index', async () => {
        const user = newUser();
        await rm.applyBatch([created(user, 0n, 1n)], 1n);
        await rm.applyBatch(
          [
            patched(user.id, { status: 'suspended', email: 'elsewhere@example.com' }, 1n, 2n),
            patched(user.id, { status: 'active', email: user.email }, 2n, 3n),
          ],
          3n,
        );
        expect(await rm.getUser(user.id)).toMatchObject({ status: 'active', email: user.email, revision: 2n });
        expect(await rm.findUserIdByEmail(user.email)).toBe(user.id);
        expect(await rm.findUserIdByEmail('elsewhere@example.com')).toBeNull();
        expect(await rm.countUsers('active')).toBe(1);
        expect((await rm.listUsers({ status: 'active', limit: 10 })).items.map((u) => u.id)).toEqual([user.id]);
      });

      it('gives an address taken over within one batch to the user who took it last', async () => {
        const [a, b] = [newUser(), newUser()];
        await rm.applyBatch([created(a, 0n, 1n)], 1n);
        await rm.applyBatch([patched(a.id, { email: 'moved@example.com' }, 1n, 2n), created(b, 0n, 3n), patched(b.id, { email: 'moved@example.com' }, 1n, 4n)], 4n);
        expect(await rm.findUserIdByEmail('moved@example.com')).toBe(b.id);
        expect(await rm.findUserIdByEmail(a.email)).toBeNull();
        expect(await rm.findUserIdByEmail(b.email)).toBeNull();
      });

      it('ends as a replay one event at a time would, however the log is cut into batches, redelivered and locally reordered', async () => {
        // Fixed by default so CI is repeatable; CONTRACT_SEED explores other interleavings.
        const seed = Number(process.env['CONTRACT_SEED'] ?? 20_261_127);
        const random = seededRandom(seed);
        const { events, views, addresses } = interleavedHistory(random, 40, 400);
        const isEmailChange = (event: ProjectedEvent): boolean => event.changes.some((change) => change.type === 'userPatched' && change.fields.email !== undefined);
        let waiting: ProjectedEvent[] = [];
        for (let next = 0, rounds = 0; next < events.length || waiting.length > 0; rounds++) {
          expect(rounds, `seed ${seed}: events held back for good`).toBeLessThan(events.length);
          const fresh = events.slice(next, next + 1 + Math.floor(random() * 40));
          next += fresh.length;
          const batch = [...waiting, ...fresh];
          // Duplicates of what came before, anywhere in the batch.
          for (let n = Math.floor(random() * 4); n > 0 && next > 0; n--) batch.splice(Math.floor(random() * batch.length), 0, events[Math.floor(random() * next)]!);
          // An event ahead of its predecessor: a gap now, applied when sent again. Not for email
          // changes: the port keeps the email index right for log order only (see the README).
          const at = Math.floor(random() * batch.length);
          const later = batch.findIndex((event, i) => i > at && event.streamId === batch[at]!.streamId && event.revision === batch[at]!.revision + 1n);
          if (later !== -1 && !isEmailChange(batch[later]!)) batch.splice(at, 0, ...batch.splice(later, 1));
          const outcomes = await rm.applyBatch(batch, batch.reduce((max, event) => (event.position > max ? event.position : max), 0n));
          waiting = batch.filter((_, i) => outcomes[i] === 'gap');
        }

        const byId = (list: readonly UserView[]): UserView[] => [...list].sort((a, b) => (a.id < b.id ? -1 : 1));
        expect(byId(await Promise.all(views.map(async (view) => (await rm.getUser(view.id))!))), `seed ${seed}`).toEqual(byId(views));
        const owners = new Map(views.map((view) => [view.email, view.id]));
        expect(await Promise.all(addresses.map((address) => rm.findUserIdByEmail(address))), `seed ${seed}`).toEqual(addresses.map((address) => owners.get(address) ?? null));
        for (const status of ['active', 'suspended'] as const) {
          const expected = views.filter((view) => view.status === status).map((view) => view.id).sort();
          expect(await rm.countUsers(status), `seed ${seed}`).toBe(expected.length);
          expect((await listAll(rm, 7, status)).flat().map((view) => view.id), `seed ${seed}`).toEqual(expected);
        }
        expect(await rm.getCheckpoint()).toBe(events.at(-1)!.position);
      });

      it('applies an empty batch, which only moves the checkpoint', async () => {
        expect(await rm.applyBatch([], 7n)).toEqual([]);
        expect(await rm.getCheckpoint()).toBe(7n);
      });

      it('only ever moves the checkpoint forwards', async () => {
        await rm.applyBatch([], 10n);
        await rm.applyBatch([], 5n);
        expect(await rm.getCheckpoint()).toBe(10n);
        await rm.applyBatch([created(newUser())], null);
        expect(await rm.getCheckpoint()).toBe(10n);
        await rm.applyBatch([], 11n);
        expect(await rm.getCheckpoint()).toBe(11n);
      });

      it('writes nothing of a batch that fails', async () => {
        const [a, b] = [newUser(), newUser()];
        await rm.applyBatch([created(a, 0n, 1n)], 1n);
        const before = await snapshot(rm, [a.id, b.id]);
        const c = randomUUID();
        const malformed = { streamId: `user-${c}`, revision: 0n, position: 4n, changes: [{ type: 'userDeleted', userId: c }] } as unknown as ProjectedEvent;
        await expect(rm.applyBatch([patched(a.id, { status: 'suspended' }, 1n, 2n), created(b, 0n, 3n), malformed], 4n)).rejects.toThrow();
        expect(await snapshot(rm, [a.id, b.id])).toEqual(before);
      });
    });

    describe('held streams', () => {
      it('holds a stream at its parked revision, keeps the first hold, lists and releases it', async () => {
        const [a, b] = [`user-${randomUUID()}`, `user-${randomUUID()}`];
        expect(await rm.getHeldStream(a)).toBeNull();
        await rm.holdStream(a, 3n, 'poison: bad data');
        await rm.holdStream(a, 5n, 'later');
        await rm.holdStream(b, 0n, 'gave up');
        expect(await rm.getHeldStream(a)).toMatchObject({ streamId: a, revision: 3n, reason: 'poison: bad data', heldAt: expect.any(String) });
        expect((await rm.listHeldStreams(10)).map((held) => held.streamId).sort()).toEqual([a, b].sort());
        expect(await rm.listHeldStreams(1)).toHaveLength(1);
        await rm.releaseStream(a);
        expect(await rm.getHeldStream(a)).toBeNull();
        expect((await rm.listHeldStreams(10)).map((held) => held.streamId)).toEqual([b]);
      });
    });

    describe('listing users', () => {
      const seed = async (count: number, at: (i: number) => string): Promise<UserFields[]> => {
        const users = Array.from({ length: count }, (_, i) => newUser({ registeredAt: at(i) }));
        await rm.applyBatch(
          users.map((u, i) => created(u, 0n, BigInt(i + 1))),
          BigInt(count),
        );
        return users;
      };
      const byRegistration = (a: UserFields, b: UserFields): number =>
        Date.parse(a.registeredAt) - Date.parse(b.registeredAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

      it('pages in registration order, ties by id, and ends with a null cursor', async () => {
        // Three users share each timestamp, so ties cross page boundaries.
        const users = await seed(8, (i) => new Date(Date.UTC(2024, 0, 1, 0, 0, Math.floor(i / 3))).toISOString());
        const pages = await listAll(rm, 3);
        expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
        expect(pages.flat().map((u) => u.id)).toEqual([...users].sort(byRegistration).map((u) => u.id));
        expect(pages.flat()[0]).toEqual({ ...[...users].sort(byRegistration)[0], revision: 0n, position: expect.any(BigInt) });
      });

      it('answers a null cursor when the last page is exactly full', async () => {
        await seed(4, (i) => new Date(Date.UTC(2024, 0, 1, i)).toISOString());
        const pages = await listAll(rm, 2);
        expect(pages.map((p) => p.length)).toEqual([2, 2]);
      });

      it('respects the limit', async () => {
        await seed(5, (i) => new Date(Date.UTC(2024, 0, 1, i)).toISOString());
        const page = await rm.listUsers({ limit: 2 });
        expect(page.items).toHaveLength(2);
        expect(page.nextCursor).toEqual(expect.any(String));
        expect((await rm.listUsers({ limit: 1 })).items).toHaveLength(1);
      });

      it('filters by status across pages', async () => {
        const users = await seed(7, (i) => new Date(Date.UTC(2024, 0, 1, i)).toISOString());
        const suspended = users.filter((_, i) => i % 2 === 0);
        await rm.applyBatch(
          suspended.map((u, i) => patched(u.id, { status: 'suspended' }, 1n, BigInt(100 + i))),
          200n,
        );
        const suspendedPages = await listAll(rm, 2, 'suspended');
        expect(suspendedPages.map((p) => p.length)).toEqual([2, 2]);
        expect(suspendedPages.flat().map((u) => u.id)).toEqual(suspended.map((u) => u.id));
        expect(suspendedPages.flat().every((u) => u.status === 'suspended')).toBe(true);
        const activePages = await listAll(rm, 2, 'active');
        expect(activePages.flat().map((u) => u.id)).toEqual(users.filter((_, i) => i % 2 === 1).map((u) => u.id));
      });

      it('never repeats or skips an item while users are added between pages', async () => {
        const users = await seed(6, (i) => new Date(Date.UTC(2024, 0, 1, i)).toISOString());
        const first = await rm.listUsers({ limit: 3 });
        // One user lands before the cursor (not seen on later pages), one after (seen), one on the cursor's own timestamp.
        const earlier = newUser({ registeredAt: new Date(Date.UTC(2023, 0, 1)).toISOString() });
        const later = newUser({ registeredAt: new Date(Date.UTC(2025, 0, 1)).toISOString() });
        const tied = newUser({ registeredAt: users[2]!.registeredAt });
        await rm.applyBatch([created(earlier, 0n, 10n), created(later, 0n, 11n), created(tied, 0n, 12n)], 12n);
        const rest: UserView[] = [];
        let cursor = first.nextCursor;
        while (cursor !== null) {
          const page = await rm.listUsers({ limit: 3, cursor });
          rest.push(...page.items);
          cursor = page.nextCursor;
        }
        const seen = [...first.items, ...rest].map((u) => u.id);
        // Users registered past the cursor show up; those before it (earlier, or tied but lower id) do not.
        const expected = [...users, later, ...(tied.id > users[2]!.id ? [tied] : [])].sort(byRegistration).map((u) => u.id);
        expect(seen).toEqual(expected);
      });

      it('rejects a limit below 1 and a cursor it did not issue', async () => {
        await expect(rm.listUsers({ limit: 0 })).rejects.toSatisfy(isValidationError);
        await expect(rm.listUsers({ limit: 10, cursor: 'not-a-cursor' })).rejects.toSatisfy(isValidationError);
      });
    });
  });

  if (outage) {
    describe(`read models (${name}) when the store is unreachable`, () => {
      let fixture: OutageFixture | undefined;

      beforeEach(async () => {
        fixture = await outage();
      });

      afterEach(async () => {
        await fixture?.cleanup();
      });

      it('fails a batch with UnavailableError, writes nothing, and works again once the store is back', async () => {
        const f = fixture!;
        const rm = f.readModels;
        const [a, b] = [newUser(), newUser()];
        await rm.applyBatch([created(a, 0n, 1n)], 1n);
        await f.beginOutage();
        await expect(rm.applyBatch([created(b, 0n, 2n), patched(a.id, { status: 'suspended' }, 1n, 3n)], 3n)).rejects.toSatisfy(isUnavailableError);
        if (f.readsFailDuringOutage) await expect(rm.getUser(a.id)).rejects.toSatisfy(isUnavailableError);
        await f.endOutage();
        if (f.keepsDataAcrossOutage) {
          expect(await rm.getUser(b.id)).toBeNull();
          expect(await rm.getUser(a.id)).toMatchObject({ status: 'active', revision: 0n });
          expect(await rm.getCheckpoint()).toBe(1n);
        }
        expect(await rm.applyBatch([created(b, 0n, 2n)], 2n)).toEqual(['applied']);
        expect(await rm.getUser(b.id)).toMatchObject({ id: b.id, revision: 0n });
      });
    });
  }
};
