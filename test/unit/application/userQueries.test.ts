import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { createMemoryReadModels } from '#adapters/memory/memoryReadModels';
import { handleUserCommand } from '#application/handleUserCommand';
import { userBatchProjection } from '#application/userProjection';
import { getUser, listUsers, type QueryDeps } from '#application/userQueries';
import { isChronicleError, isUnavailableError, UnavailableError } from '#domain/errors';
import type { EventStore } from '#ports/eventStore';
import type { ReadModels } from '#ports/readModels';
import { freshEmail, freshOptions, register, reservationStreamOf, suspend, keys } from './commandFixtures.ts';

/** Plays the projector: applies everything after the checkpoint. */
const project = async (store: EventStore, readModels: ReadModels): Promise<void> => {
  const checkpoint = await readModels.getCheckpoint();
  const events = await store.readAll({ fromPosition: (checkpoint ?? 0n) + 1n, streamPrefixes: ['user-'] });
  const head = await store.headPosition();
  const projectOne = await userBatchProjection(keys)(events);
  await readModels.applyBatch(events.map(projectOne), head);
};

const setup = (consistencyWaitMs = 200) => {
  const store = createMemoryEventStore();
  const readModels = createMemoryReadModels();
  const deps: QueryDeps = { readModels, consistencyWaitMs, pollIntervalMs: 5 };
  const run = (command: Parameters<typeof handleUserCommand>[1]) => handleUserCommand({ eventStore: store, reservationStreamOf, keys, maxAttempts: 3 }, command, freshOptions());
  return { store, readModels, deps, run };
};

describe('user queries', () => {
  describe('getUser', () => {
    it('answers the projected view', async () => {
      const { store, readModels, deps, run } = setup();
      const userId = randomUUID();
      const email = freshEmail();
      await run(register(userId, email));
      await project(store, readModels);
      const { user, stale } = await getUser(deps, userId);
      expect(stale).toBe(false);
      expect(user).toMatchObject({ id: userId, email, status: 'active', emailVerified: false, revision: 0n });
    });

    it('answers USER_NOT_FOUND for an unknown user', async () => {
      const { deps } = setup();
      const error = await getUser(deps, randomUUID()).catch((e: unknown) => e);
      expect(isChronicleError(error) && error.code).toBe('USER_NOT_FOUND');
    });

    it('waits for the read model to reach the consistency token', async () => {
      const { store, readModels, deps, run } = setup(2_000);
      const userId = randomUUID();
      const { position } = await run(register(userId, freshEmail()));
      setTimeout(() => void project(store, readModels), 30);
      const { user, stale } = await getUser(deps, userId, { consistentWith: position });
      expect(stale).toBe(false);
      expect(user.id).toBe(userId);
    });

    it('answers what it has, marked stale, when the wait times out', async () => {
      const { store, readModels, deps, run } = setup(40);
      const userId = randomUUID();
      await run(register(userId, freshEmail()));
      await project(store, readModels);
      const { position } = await run(suspend(userId));
      const started = Date.now();
      const { user, stale } = await getUser(deps, userId, { consistentWith: position });
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(stale).toBe(true);
      expect(user.status).toBe('active');
    });

    it('answers USER_NOT_FOUND marked stale when the wait times out before the user appears', async () => {
      const { deps, run } = setup(30);
      const userId = randomUUID();
      const { position } = await run(register(userId, freshEmail()));
      const error = await getUser(deps, userId, { consistentWith: position }).catch((e: unknown) => e);
      expect(isChronicleError(error) && [error.code, error.details?.['stale']]).toEqual(['USER_NOT_FOUND', true]);
    });

    it('needs no wait when the view itself already includes the token', async () => {
      const { store, readModels, run } = setup();
      const userId = randomUUID();
      const { position } = await run(register(userId, freshEmail()));
      await project(store, readModels);
      const { stale } = await getUser({ readModels, consistencyWaitMs: 0 }, userId, { consistentWith: position });
      expect(stale).toBe(false);
    });
  });

  describe('listUsers', () => {
    it('filters by status and pages with a cursor', async () => {
      const { store, readModels, deps, run } = setup();
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const id of ids) await run(register(id, freshEmail()));
      await run(suspend(ids[0] as string));
      await project(store, readModels);
      const suspended = await listUsers(deps, { status: 'suspended', limit: 10 });
      expect(suspended.page.items.map((u) => u.id)).toEqual([ids[0]]);
      const first = await listUsers(deps, { limit: 2 });
      const second = await listUsers(deps, { limit: 2, cursor: first.page.nextCursor });
      expect([...first.page.items, ...second.page.items].map((u) => u.id).sort()).toEqual([...ids].sort());
      expect(second.page.nextCursor).toBeNull();
    });

    it('reports stale when the checkpoint does not reach the token in time', async () => {
      const { deps, run } = setup(30);
      const { position } = await run(register(randomUUID(), freshEmail()));
      const { page, stale } = await listUsers(deps, { limit: 5, consistentWith: position });
      expect(stale).toBe(true);
      expect(page.items).toEqual([]);
    });
  });

  describe('when the store is briefly unavailable', () => {
    /** The read models, with the next `failures` reads failing as a dead connection would. */
    const flaky = (readModels: ReadModels, failures: number): ReadModels => {
      let left = failures;
      const gate = <T>(read: () => Promise<T>): Promise<T> => (left-- > 0 ? Promise.reject(new UnavailableError('connection lost')) : read());
      return {
        ...readModels,
        getUser: (id) => gate(() => readModels.getUser(id)),
        getCheckpoint: () => gate(() => readModels.getCheckpoint()),
        listUsers: (query) => gate(() => readModels.listUsers(query)),
      };
    };
    const fastRetry = { baseDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 1_000, maxAttempts: 4 };

    it('retries a read that found the connection dead (a thawed Lambda) and answers', async () => {
      const { store, readModels, deps, run } = setup();
      const userId = randomUUID();
      const { position } = await run(register(userId, freshEmail()));
      await project(store, readModels);
      const answer = await getUser({ ...deps, readModels: flaky(readModels, 2), readRetry: fastRetry }, userId, { consistentWith: position });
      expect(answer.user.id).toBe(userId);
      const page = await listUsers({ ...deps, readModels: flaky(readModels, 2), readRetry: fastRetry }, { limit: 10 });
      expect(page.page.items.map((u) => u.id)).toContain(userId);
    });

    it('gives up after its bound with the store unavailable', async () => {
      const { deps } = setup();
      const error = await getUser({ ...deps, readModels: flaky(createMemoryReadModels(), 100), readRetry: fastRetry }, randomUUID()).catch((e: unknown) => e);
      expect(isUnavailableError(error)).toBe(true);
    });
  });
});

