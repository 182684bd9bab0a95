import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { emailHolder, ORPHANED_RESERVATION_AFTER_MS, reserveEmail } from '#application/emailReservations';
import { handleUserCommand, type CommandDeps } from '#application/handleUserCommand';
import { isChronicleError, UnavailableError } from '#domain/errors';
import { userStreamId } from '#domain/userValues';
import type { EventStore } from '#ports/eventStore';
import { changeEmail, freshEmail, freshOptions, interceptAppends, isUserStream, now, register, reservationStreamOf, suspend, keys } from './commandFixtures.ts';

const depsOf = (eventStore: EventStore, extra: Partial<CommandDeps> = {}): CommandDeps => ({ eventStore, reservationStreamOf, keys, maxAttempts: 5, ...extra });

const codeOf = (outcome: PromiseSettledResult<unknown>): string | null =>
  outcome.status === 'fulfilled' ? null : isChronicleError(outcome.reason) ? outcome.reason.code : String(outcome.reason);

describe('email uniqueness', () => {
  describe('when two users register one email at once', () => {
    it('lets exactly one succeed and answers EMAIL_TAKEN to the other, which holds nothing', async () => {
      const inner = createMemoryEventStore();
      const email = freshEmail();
      // Both reservation appends wait until both have read the free reservation: a true race.
      let bothRead: () => void = () => undefined;
      const barrier = new Promise<void>((resolve) => (bothRead = resolve));
      const store = interceptAppends(inner, (streamId) => streamId === reservationStreamOf(email), async (attempt) => {
        if (attempt === 2) bothRead();
        if (attempt <= 2) await barrier;
      });
      const [alice, bob] = [randomUUID(), randomUUID()];
      const outcomes = await Promise.allSettled([
        handleUserCommand(depsOf(store), register(alice, email), freshOptions()),
        handleUserCommand(depsOf(store), register(bob, email.toUpperCase()), freshOptions()),
      ]);
      expect(outcomes.map(codeOf).sort()).toEqual(['EMAIL_TAKEN', null].sort());
      const winner = outcomes[0]?.status === 'fulfilled' ? alice : bob;
      const loser = winner === alice ? bob : alice;
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, email)).toBe(winner);
      expect(await store.readStream(reservationStreamOf(email))).toHaveLength(1);
      expect(await store.readStream(userStreamId(loser))).toEqual([]);
      expect(store.attempts()).toBe(2);
    });

    it('lets exactly one of many succeed', async () => {
      const store = createMemoryEventStore();
      const email = freshEmail();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, () => handleUserCommand(depsOf(store), register(randomUUID(), email), freshOptions())),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.map(codeOf).filter((code) => code !== null)).toEqual(Array(5).fill('EMAIL_TAKEN'));
    });
  });

  describe('when an email is held', () => {
    it('refuses it to another registration, writing nothing for that user', async () => {
      const store = createMemoryEventStore();
      const email = freshEmail();
      await handleUserCommand(depsOf(store), register(randomUUID(), email), freshOptions());
      const other = randomUUID();
      const [outcome] = await Promise.allSettled([handleUserCommand(depsOf(store), register(other, email), freshOptions())]);
      expect(codeOf(outcome as PromiseSettledResult<unknown>)).toBe('EMAIL_TAKEN');
      expect(await store.readStream(userStreamId(other))).toEqual([]);
    });

    it('refuses it to another user changing email, leaving that user unchanged', async () => {
      const store = createMemoryEventStore();
      const taken = freshEmail();
      await handleUserCommand(depsOf(store), register(randomUUID(), taken), freshOptions());
      const other = randomUUID();
      await handleUserCommand(depsOf(store), register(other, freshEmail()), freshOptions());
      const [outcome] = await Promise.allSettled([handleUserCommand(depsOf(store), changeEmail(other, taken), freshOptions())]);
      expect(codeOf(outcome as PromiseSettledResult<unknown>)).toBe('EMAIL_TAKEN');
      expect(await store.readStream(userStreamId(other))).toHaveLength(1);
    });
  });

  describe('when a user changes email', () => {
    it('holds the new address and frees the old one', async () => {
      const store = createMemoryEventStore();
      const [before, after] = [freshEmail(), freshEmail()];
      const userId = randomUUID();
      await handleUserCommand(depsOf(store), register(userId, before), freshOptions());
      await handleUserCommand(depsOf(store), changeEmail(userId, after), freshOptions());
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, after)).toBe(userId);
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, before)).toBeNull();
      await handleUserCommand(depsOf(store), register(randomUUID(), before), freshOptions());
    });

    it('can take its old address back later', async () => {
      const store = createMemoryEventStore();
      const [first, second] = [freshEmail(), freshEmail()];
      const userId = randomUUID();
      await handleUserCommand(depsOf(store), register(userId, first), freshOptions());
      await handleUserCommand(depsOf(store), changeEmail(userId, second), freshOptions());
      await handleUserCommand(depsOf(store), changeEmail(userId, first), freshOptions());
      expect([await emailHolder({ eventStore: store, reservationStreamOf }, first), await emailHolder({ eventStore: store, reservationStreamOf }, second)]).toEqual([userId, null]);
    });
  });

  describe('when two commands of one user want the same address and the first one fails', () => {
    it('keeps the address claimed for the one that succeeds, so no second user can take it', async () => {
      const inner = createMemoryEventStore();
      const [userId, otherUser] = [randomUUID(), randomUUID()];
      const [first, wanted] = [freshEmail(), freshEmail()];
      // Appends to the user's stream by a gated command wait until the test opens its gate.
      const gates = new Map<string, { open: () => void; opened: Promise<void>; reached: Promise<void>; arrive: () => void }>();
      const gate = (commandId: string) => {
        let open = (): void => undefined;
        let arrive = (): void => undefined;
        const entry = { opened: new Promise<void>((resolve) => (open = resolve)), reached: new Promise<void>((resolve) => (arrive = resolve)), open: () => open(), arrive: () => arrive() };
        gates.set(commandId, entry);
        return entry;
      };
      const store = interceptAppends(inner, isUserStream, async () => undefined);
      const gated: typeof store = {
        ...store,
        appendToStream: async (streamId, events, options) => {
          const held = streamId === userStreamId(userId) ? gates.get(String(events[0]?.metadata.commandId)) : undefined;
          if (held !== undefined) {
            held.arrive();
            await held.opened;
          }
          return inner.appendToStream(streamId, events, options);
        },
      };
      const deps = depsOf(gated);
      // X registers the user with `wanted` and stalls before its append; W registers the user
      // with another address; Y changes the address to `wanted` and stalls too.
      const x = gate('x');
      const registration = handleUserCommand(deps, register(userId, wanted), freshOptions({ commandId: 'x' })).catch((error: unknown) => error);
      await x.reached;
      await handleUserCommand(deps, register(userId, first), freshOptions({ commandId: 'w' }));
      const y = gate('y');
      const change = handleUserCommand(deps, changeEmail(userId, wanted), freshOptions({ commandId: 'y' }));
      await y.reached;
      // X fails (the user exists now) and compensates; Y then writes the address into the stream.
      x.open();
      expect(codeOf({ status: 'rejected', reason: await registration })).toBe('USER_ALREADY_REGISTERED');
      y.open();
      await change;
      expect(await emailHolder({ eventStore: inner, reservationStreamOf }, wanted)).toBe(userId);
      const [outcome] = await Promise.allSettled([handleUserCommand(depsOf(inner), register(otherUser, wanted), freshOptions())]);
      expect(codeOf(outcome as PromiseSettledResult<unknown>)).toBe('EMAIL_TAKEN');
    });
  });

  describe("when the user's own append fails after the reservation", () => {
    it('releases the reservation again (compensation)', async () => {
      const inner = createMemoryEventStore();
      const email = freshEmail();
      const store = interceptAppends(inner, isUserStream, async () => {
        throw new UnavailableError('the event store went away');
      });
      const [outcome] = await Promise.allSettled([handleUserCommand(depsOf(store), register(randomUUID(), email), freshOptions())]);
      expect(codeOf(outcome as PromiseSettledResult<unknown>)).toBe('STORE_UNAVAILABLE');
      expect(await emailHolder({ eventStore: inner, reservationStreamOf }, email)).toBeNull();
      expect((await inner.readStream(reservationStreamOf(email))).map((e) => e.type)).toEqual(['EmailReserved', 'EmailReleased']);
      await handleUserCommand(depsOf(inner), register(randomUUID(), email), freshOptions());
    });

    it('releases it when a concurrent write makes the command break a rule on reload', async () => {
      const inner = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand(depsOf(inner), register(userId, freshEmail()), freshOptions());
      const wanted = freshEmail();
      const store = interceptAppends(inner, isUserStream, async (attempt) => {
        if (attempt === 1) await handleUserCommand(depsOf(inner), suspend(userId), freshOptions());
      });
      const [outcome] = await Promise.allSettled([handleUserCommand(depsOf(store), changeEmail(userId, wanted), freshOptions())]);
      expect(codeOf(outcome as PromiseSettledResult<unknown>)).toBe('USER_SUSPENDED');
      expect(await emailHolder({ eventStore: inner, reservationStreamOf }, wanted)).toBeNull();
    });

    it('releases the reservation of a registration whose retry succeeds later with the same key', async () => {
      const inner = createMemoryEventStore();
      const email = freshEmail();
      const userId = randomUUID();
      const options = freshOptions();
      const failing = interceptAppends(inner, isUserStream, async () => {
        throw new UnavailableError('down');
      });
      await Promise.allSettled([handleUserCommand(depsOf(failing), register(userId, email), options)]);
      await handleUserCommand(depsOf(inner), register(userId, email), options);
      expect(await emailHolder({ eventStore: inner, reservationStreamOf }, email)).toBe(userId);
      expect((await inner.readStream(reservationStreamOf(email))).map((e) => e.type)).toEqual(['EmailReserved', 'EmailReleased', 'EmailReserved']);
    });

    it('reports a compensation that could not be written, and still answers the original error', async () => {
      const inner = createMemoryEventStore();
      const failures: string[] = [];
      const store = interceptAppends(
        inner,
        () => true,
        async (attempt) => {
          if (attempt > 1) throw new UnavailableError('down');
        },
      );
      const deps = depsOf(store, { onReservationCleanupFailed: (_error, context) => failures.push(context.step) });
      const [outcome] = await Promise.allSettled([handleUserCommand(deps, register(randomUUID(), freshEmail()), freshOptions())]);
      expect(codeOf(outcome as PromiseSettledResult<unknown>)).toBe('STORE_UNAVAILABLE');
      expect(failures).toEqual(['compensating-release']);
    });
  });

  describe('when a reservation is orphaned (its holder never wrote the user’s event)', () => {
    const longAgo = new Date(now.getTime() - ORPHANED_RESERVATION_AFTER_MS - 1_000);
    const aMinuteAgo = new Date(now.getTime() - 60_000);

    it('hands the address to another user once the reservation is old enough', async () => {
      const store = createMemoryEventStore();
      const email = freshEmail();
      await reserveEmail(depsOf(store), email, randomUUID(), longAgo, freshOptions());
      const userId = randomUUID();
      await handleUserCommand(depsOf(store), register(userId, email), freshOptions());
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, email)).toBe(userId);
      expect((await store.readStream(reservationStreamOf(email))).map((e) => e.type)).toEqual(['EmailReserved', 'EmailReleased', 'EmailReserved']);
    });

    it('keeps refusing it while the reservation is recent: its command may still be running', async () => {
      const store = createMemoryEventStore();
      const email = freshEmail();
      const ghost = randomUUID();
      await reserveEmail(depsOf(store), email, ghost, aMinuteAgo, freshOptions());
      const [outcome] = await Promise.allSettled([handleUserCommand(depsOf(store), register(randomUUID(), email), freshOptions())]);
      expect(codeOf(outcome as PromiseSettledResult<unknown>)).toBe('EMAIL_TAKEN');
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, email)).toBe(ghost);
    });

    it('never takes an address its holder uses, however old the reservation', async () => {
      const store = createMemoryEventStore();
      const email = freshEmail();
      const holder = randomUUID();
      await handleUserCommand(depsOf(store), { ...register(holder, email), metadata: { now: longAgo } }, freshOptions());
      const [outcome] = await Promise.allSettled([handleUserCommand(depsOf(store), register(randomUUID(), email), freshOptions())]);
      expect(codeOf(outcome as PromiseSettledResult<unknown>)).toBe('EMAIL_TAKEN');
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, email)).toBe(holder);
    });
  });
});
