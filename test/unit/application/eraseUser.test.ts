import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { emailHolder } from '#application/emailReservations';
import { eraseUser } from '#application/eraseUser';
import { exportUser } from '#application/exportUser';
import { getUserHistory } from '#application/getUserHistory';
import { handleUserCommand, type CommandDeps } from '#application/handleUserCommand';
import { isChronicleError, UnavailableError } from '#domain/errors';
import type { EraseUser } from '#domain/userCommands';
import type { EventStore } from '#ports/eventStore';
import type { DataKeyStore } from '#ports/dataKeys';
import { memoryUserKeys } from '#test/support/memoryUserKeys';
import { changeEmail, freshEmail, freshOptions, interceptAppends, isUserStream, now, register, reservationStreamOf, suspend } from './commandFixtures.ts';

const erase = (userId: string): EraseUser => ({ type: 'EraseUser', data: { userId }, metadata: { now } });

const setup = (wrap: (store: EventStore) => EventStore = (store) => store, keyStore?: (inner: DataKeyStore) => DataKeyStore) => {
  const store = createMemoryEventStore();
  const base = memoryUserKeys();
  const keys = keyStore === undefined ? base : memoryUserKeys(keyStore(base.store));
  const deps: CommandDeps = { eventStore: wrap(store), reservationStreamOf, keys, maxAttempts: 5 };
  return { store, keys, deps, plain: { ...deps, eventStore: store } };
};

const codeOf = async (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'no error',
    (error: unknown) => (isChronicleError(error) ? error.code : `unexpected: ${String(error)}`),
  );

/** Every byte the event store holds, as text: what a disk would show. */
const everythingStored = async (store: EventStore): Promise<string> => JSON.stringify(await store.readAll(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));

describe('user erasure', () => {
  describe('when a registered user is erased', () => {
    it('appends UserErased, frees the address, destroys the key, and answers like a command', async () => {
      const { store, keys, deps } = setup();
      const [userId, email] = [randomUUID(), freshEmail()];
      await handleUserCommand(deps, register(userId, email, 'Ada Lovelace'), freshOptions());
      const result = await eraseUser(deps, erase(userId), freshOptions());

      expect(result).toEqual({ id: userId, revision: 1n, position: expect.any(BigInt) });
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, email)).toBeNull();
      expect((await keys.store.getMany([userId])).get(userId)).toBeNull();
      const stored = await everythingStored(store);
      expect(stored).toContain('UserErased');
    });

    it('shows the history with personal fields null and erased: true', async () => {
      const { keys, deps, store } = setup();
      const userId = randomUUID();
      await handleUserCommand(deps, register(userId, freshEmail(), 'Ada Lovelace'), freshOptions());
      await handleUserCommand(deps, suspend(userId, 'asked to'), freshOptions());
      await eraseUser(deps, erase(userId), freshOptions());
      const { items } = await getUserHistory({ eventStore: store, keys }, userId);
      expect(items.map((item) => [item.type, item.erased])).toEqual([
        ['UserRegistered', true],
        ['UserSuspended', true],
        ['UserErased', true],
      ]);
      expect(items[0]?.data).toEqual({ userId, registeredAt: now.toISOString(), email: null, displayName: null });
      expect(items[1]?.data).toEqual({ userId, suspendedAt: now.toISOString(), reason: null });
    });

    it('refuses every later command as gone', async () => {
      const { deps } = setup();
      const userId = randomUUID();
      await handleUserCommand(deps, register(userId, freshEmail()), freshOptions());
      await eraseUser(deps, erase(userId), freshOptions());
      expect(await codeOf(handleUserCommand(deps, suspend(userId), freshOptions()))).toBe('USER_ERASED');
      expect(await codeOf(handleUserCommand(deps, changeEmail(userId, freshEmail()), freshOptions()))).toBe('USER_ERASED');
      expect(await codeOf(handleUserCommand(deps, register(userId, freshEmail()), freshOptions()))).toBe('USER_ERASED');
    });

    it('lets someone else register the address again', async () => {
      const { deps } = setup();
      const [userId, email] = [randomUUID(), freshEmail()];
      await handleUserCommand(deps, register(userId, email), freshOptions());
      await eraseUser(deps, erase(userId), freshOptions());
      const newcomer = randomUUID();
      await handleUserCommand(deps, register(newcomer, email), freshOptions());
      expect(await emailHolder({ eventStore: deps.eventStore, reservationStreamOf }, email)).toBe(newcomer);
    });

    it('is idempotent: erasing again appends nothing and answers the same revision', async () => {
      const { deps, store } = setup();
      const userId = randomUUID();
      await handleUserCommand(deps, register(userId, freshEmail()), freshOptions());
      const first = await eraseUser(deps, erase(userId), freshOptions());
      const second = await eraseUser(deps, erase(userId), freshOptions());
      expect(second).toEqual(first);
      expect((await store.readAll()).filter((e) => e.type === 'UserErased')).toHaveLength(1);
    });

    it('answers 404 for a user that never existed', async () => {
      expect(await codeOf(eraseUser(setup().deps, erase(randomUUID()), freshOptions()))).toBe('USER_NOT_FOUND');
    });
  });

  describe('when the erasure stops half-way', () => {
    it('finishes on retry after the address could not be released', async () => {
      let failReservations = false;
      const { store, keys, deps } = setup((inner) =>
        interceptAppends(inner, (streamId) => !isUserStream(streamId), async () => {
          if (failReservations) throw new UnavailableError('injected');
        }),
      );
      const [userId, email] = [randomUUID(), freshEmail()];
      await handleUserCommand(deps, register(userId, email), freshOptions());
      failReservations = true;
      expect(await codeOf(eraseUser(deps, erase(userId), freshOptions()))).toBe('STORE_UNAVAILABLE');
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, email)).toBe(userId);
      expect((await keys.store.getMany([userId])).get(userId)).not.toBeNull();

      failReservations = false;
      await eraseUser(deps, erase(userId), freshOptions());
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, email)).toBeNull();
      expect((await keys.store.getMany([userId])).get(userId)).toBeNull();
    });

    it('finishes on retry after the key could not be destroyed', async () => {
      let failDestroy = true;
      const { store, keys, deps } = setup(undefined, (inner) => ({
        ...inner,
        destroy: async (userId) => {
          if (failDestroy) throw new UnavailableError('injected');
          return inner.destroy(userId);
        },
      }));
      const [userId, email] = [randomUUID(), freshEmail()];
      await handleUserCommand(deps, register(userId, email), freshOptions());
      expect(await codeOf(eraseUser(deps, erase(userId), freshOptions()))).toBe('STORE_UNAVAILABLE');
      failDestroy = false;
      await eraseUser(deps, erase(userId), freshOptions());
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, email)).toBeNull();
      expect((await keys.store.getMany([userId])).get(userId)).toBeNull();
    });
  });

  describe('when another command races the erasure', () => {
    it('refuses the loser as gone and gives back the address it had reserved', async () => {
      const newEmail = freshEmail();
      let erased = false;
      const userId = randomUUID();
      const { store, plain, deps } = setup((inner) =>
        interceptAppends(inner, isUserStream, async () => {
          if (erased) return;
          erased = true;
          // The erasure lands between the email change's load and its append.
          await eraseUser(plain, erase(userId), freshOptions());
        }),
      );
      await handleUserCommand(plain, register(userId, freshEmail()), freshOptions());
      expect(await codeOf(handleUserCommand(deps, changeEmail(userId, newEmail), freshOptions()))).toBe('USER_ERASED');
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, newEmail)).toBeNull();
    });
  });

  describe('when exporting a user', () => {
    it('answers the current view and the full decrypted history with times and actors', async () => {
      const { deps, keys, store } = setup();
      const [userId, email] = [randomUUID(), freshEmail()];
      await handleUserCommand(deps, register(userId, email, 'Ada Lovelace'), freshOptions({ actor: { issuer: 'https://issuer.example', subject: 'ada' } }));
      await handleUserCommand(deps, suspend(userId, 'asked for a break'), freshOptions({ actor: { issuer: 'https://issuer.example', subject: 'admin' } }));
      const document = await exportUser({ eventStore: store, keys }, userId, now);
      expect(document.current).toEqual({ status: 'suspended', email, emailVerified: false, displayName: 'Ada Lovelace', registeredAt: now.toISOString() });
      expect(document.erased).toBe(false);
      expect(document.history.map((item) => [item.type, item.occurredAt, item.metadata['actor']])).toEqual([
        ['UserRegistered', now.toISOString(), { issuer: 'https://issuer.example', subject: 'ada' }],
        ['UserSuspended', now.toISOString(), { issuer: 'https://issuer.example', subject: 'admin' }],
      ]);
      expect(document.history[1]?.data['reason']).toBe('asked for a break');
    });
  });

  it('never stores a personal field in clear', async () => {
    const { deps, store } = setup();
    const userId = randomUUID();
    await handleUserCommand(deps, register(userId, 'clear-text-probe@example.com', 'Probe Person'), freshOptions());
    await handleUserCommand(deps, changeEmail(userId, 'second-probe@example.com'), freshOptions());
    await handleUserCommand(deps, suspend(userId, 'probe reason'), freshOptions());
    const stored = await everythingStored(store);
    for (const secret of ['clear-text-probe', 'second-probe', 'Probe Person', 'probe reason']) expect(stored).not.toContain(secret);
  });
});
