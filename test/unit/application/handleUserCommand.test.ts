import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { emailHolder } from '#application/emailReservations';
import { commandEventId } from '#application/eventIds';
import { handleUserCommand, type CommandDeps } from '#application/handleUserCommand';
import { isChronicleError } from '#domain/errors';
import type { UserCommand } from '#domain/userCommands';
import { userStreamId } from '#domain/userValues';
import type { EventStore } from '#ports/eventStore';
import type { CommandOptions } from '#application/commandOptions';
import { loadUserStream } from '#application/userStream';
import { changeEmail, freshEmail, freshOptions, interceptAppends, isUserStream, now, reactivate, register, reservationStreamOf, suspend, verifyEmail, keys } from './commandFixtures.ts';

const depsOf = (eventStore: EventStore, maxAttempts = 5): CommandDeps => ({ eventStore, reservationStreamOf, keys, maxAttempts });

const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    return isChronicleError(error) ? error.code : `unexpected: ${String(error)}`;
  }
  return 'no error';
};

/** given(commands already handled).when(command).then… — against a fresh memory event store. */
const given = (...history: UserCommand[]) => ({
  when: (command: UserCommand, options: CommandOptions = freshOptions(), store: EventStore = createMemoryEventStore()) => {
    const run = async () => {
      for (const past of history) await handleUserCommand(depsOf(store), past, freshOptions());
      const result = await handleUserCommand(depsOf(store), command, options);
      // Decoded with the user's key: what the events say, not their sealed stored form.
      const events = (await loadUserStream({ eventStore: store, keys }, command.data.userId)).decoded.map((d) => (d.shredded ? d : d.event));
      return { result, events, store };
    };
    return {
      then: async (expected: Array<{ type: string; data: Record<string, unknown> }>) => {
        const { events } = await run();
        expect(events.slice(history.length).map(({ type, data }) => ({ type, data }))).toEqual(expected);
      },
      thenThrows: async (code: string) => {
        expect(await codeOf(run())).toBe(code);
      },
    };
  },
});

describe('user command handling', () => {
  describe('when registering', () => {
    it('appends UserRegistered with the normalised email', async () => {
      const userId = randomUUID();
      await given()
        .when(register(userId, '  Ada@Example.COM ', ' Ada '))
        .then([{ type: 'UserRegistered', data: { userId, email: 'ada@example.com', displayName: 'Ada', registeredAt: now.toISOString() } }]);
    });

    it('answers the new revision and the global position', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      const result = await handleUserCommand(depsOf(store), register(userId, freshEmail()), freshOptions());
      const [stored] = await store.readStream(userStreamId(userId));
      expect(result).toEqual({ id: userId, revision: 0n, position: stored?.position });
    });

    it('writes metadata: schema version, correlation, causation, command id, time, actor', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      const options = freshOptions({ actor: { issuer: 'https://id.example', subject: 'admin-7' } });
      await handleUserCommand(depsOf(store), register(userId, freshEmail()), options);
      const [stored] = await store.readStream(userStreamId(userId));
      expect(stored?.metadata).toEqual({
        schemaVersion: 1,
        $correlationId: options.correlationId,
        $causationId: options.commandId,
        commandId: options.commandId,
        occurredAt: now.toISOString(),
        actor: { issuer: 'https://id.example', subject: 'admin-7' },
      });
    });

    it('derives event ids from the command id', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      const options = freshOptions();
      await handleUserCommand(depsOf(store), register(userId, freshEmail()), options);
      const [stored] = await store.readStream(userStreamId(userId));
      expect(stored?.id).toBe(commandEventId(options.commandId, userStreamId(userId), 0));
    });

    it('refuses a second registration of the same user', async () => {
      const userId = randomUUID();
      await given(register(userId, freshEmail())).when(register(userId, freshEmail())).thenThrows('USER_ALREADY_REGISTERED');
    });

    it('rejects an invalid email before writing anything', async () => {
      const store = createMemoryEventStore();
      expect(await codeOf(handleUserCommand(depsOf(store), register(randomUUID(), 'not-an-email'), freshOptions()))).toBe('VALIDATION_FAILED');
      expect(await store.readAll()).toEqual([]);
    });
  });

  describe('when the same command id arrives twice (Idempotency-Key)', () => {
    it('appends once and answers the first result again', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      const options = freshOptions();
      const first = await handleUserCommand(depsOf(store), register(userId, freshEmail()), options);
      const second = await handleUserCommand(depsOf(store), register(userId, freshEmail()), options);
      expect(second).toEqual(first);
      expect(await store.readStream(userStreamId(userId))).toHaveLength(1);
    });

    it('answers the original result even after the stream moved on', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      const email = freshEmail();
      await handleUserCommand(depsOf(store), register(userId, email), freshOptions());
      const options = freshOptions();
      const first = await handleUserCommand(depsOf(store), changeEmail(userId, freshEmail()), options);
      await handleUserCommand(depsOf(store), suspend(userId), freshOptions());
      const again = await handleUserCommand(depsOf(store), changeEmail(userId, freshEmail()), options);
      expect(again).toEqual(first);
      expect(await store.readStream(userStreamId(userId))).toHaveLength(3);
    });

    it('appends once when both copies race', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      const email = freshEmail();
      const options = freshOptions();
      const [a, b] = await Promise.all([
        handleUserCommand(depsOf(store), register(userId, email), options),
        handleUserCommand(depsOf(store), register(userId, email), options),
      ]);
      expect(a).toEqual(b);
      expect(await store.readStream(userStreamId(userId))).toHaveLength(1);
      expect(await emailHolder({ eventStore: store, reservationStreamOf }, email)).toBe(userId);
    });

    it('treats the same key sent for two different users as two commands', async () => {
      const store = createMemoryEventStore();
      const [alice, bob] = [randomUUID(), randomUUID()];
      for (const userId of [alice, bob]) await handleUserCommand(depsOf(store), register(userId, freshEmail()), freshOptions());
      const options = freshOptions();
      const [newAlice, newBob] = [freshEmail(), freshEmail()];
      await handleUserCommand(depsOf(store), changeEmail(alice, newAlice), options);
      await handleUserCommand(depsOf(store), changeEmail(bob, newBob), options);
      const bobsEvents = (await loadUserStream({ eventStore: store, keys }, bob)).decoded.map((d) => (d.shredded ? null : d.event.data));
      expect(bobsEvents.map((data) => (data !== null && 'email' in data ? data.email : null))).toEqual([expect.any(String), newBob]);
      expect([await emailHolder({ eventStore: store, reservationStreamOf }, newAlice), await emailHolder({ eventStore: store, reservationStreamOf }, newBob)]).toEqual([alice, bob]);
    });

    it('refuses a key already used for a different command, writing nothing', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand(depsOf(store), register(userId, freshEmail()), freshOptions());
      const options = freshOptions();
      await handleUserCommand(depsOf(store), suspend(userId), options);
      expect(await codeOf(handleUserCommand(depsOf(store), reactivate(userId), options))).toBe('IDEMPOTENCY_KEY_REUSED');
      expect((await store.readStream(userStreamId(userId))).map((e) => e.type)).toEqual(['UserRegistered', 'UserSuspended']);
    });

    it('answers the first result for the same request again, and refuses the key with another request, writing nothing', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand(depsOf(store), register(userId, freshEmail()), freshOptions());
      const options = freshOptions({ requestFingerprint: 'fingerprint-of-email-a' });
      const first = await handleUserCommand(depsOf(store), changeEmail(userId, freshEmail()), options);
      expect(await handleUserCommand(depsOf(store), changeEmail(userId, freshEmail()), options)).toEqual(first);
      const reused = { ...options, requestFingerprint: 'fingerprint-of-email-b' };
      expect(await codeOf(handleUserCommand(depsOf(store), changeEmail(userId, freshEmail()), reused))).toBe('IDEMPOTENCY_KEY_REUSED');
      expect((await store.readStream(userStreamId(userId))).map((e) => e.type)).toEqual(['UserRegistered', 'EmailChanged']);
    });

    it('stores the fingerprint, never the request itself', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand(depsOf(store), register(userId, freshEmail()), freshOptions({ requestFingerprint: 'opaque-digest' }));
      expect((await store.readStream(userStreamId(userId)))[0]?.metadata['requestFingerprint']).toBe('opaque-digest');
    });
  });

  describe('when an authorization guard needs the loaded account', () => {
    it('runs it before deciding, and writes nothing when it refuses', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      const email = freshEmail();
      await handleUserCommand(depsOf(store), register(userId, email), freshOptions());
      const seen: string[] = [];
      const guard = (state: { status: string }) => {
        seen.push(state.status);
        throw new Error('refused by guard');
      };
      await expect(handleUserCommand(depsOf(store), verifyEmail(userId, email), freshOptions({ guard }))).rejects.toThrow('refused by guard');
      expect(seen).toEqual(['active']);
      expect(await store.readStream(userStreamId(userId))).toHaveLength(1);
    });
  });

  describe('when the caller pins a revision (If-Match)', () => {
    it('appends when the stream is at that revision', async () => {
      const userId = randomUUID();
      await given(register(userId, freshEmail()))
        .when(suspend(userId, 'spam'), freshOptions({ expectedRevision: 0n }))
        .then([{ type: 'UserSuspended', data: { userId, reason: 'spam', suspendedAt: now.toISOString() } }]);
    });

    it('fails the precondition when the stream is elsewhere, writing nothing', async () => {
      const userId = randomUUID();
      await given(register(userId, freshEmail()), suspend(userId))
        .when(changeEmail(userId, freshEmail()), freshOptions({ expectedRevision: 0n }))
        .thenThrows('PRECONDITION_FAILED');
    });

    it('fails the precondition instead of retrying when another writer wins the race', async () => {
      const inner = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand(depsOf(inner), register(userId, freshEmail()), freshOptions());
      const store = interceptAppends(inner, isUserStream, async (attempt) => {
        if (attempt === 1) await handleUserCommand(depsOf(inner), changeEmail(userId, freshEmail()), freshOptions());
      });
      expect(await codeOf(handleUserCommand(depsOf(store), suspend(userId), freshOptions({ expectedRevision: 0n })))).toBe('PRECONDITION_FAILED');
      expect(store.attempts()).toBe(1);
    });
  });

  describe('when another writer appends between load and append', () => {
    it('reloads, decides again and appends after it', async () => {
      const inner = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand(depsOf(inner), register(userId, freshEmail()), freshOptions());
      const store = interceptAppends(inner, isUserStream, async (attempt) => {
        if (attempt === 1) await handleUserCommand(depsOf(inner), changeEmail(userId, freshEmail()), freshOptions());
      });
      const result = await handleUserCommand(depsOf(store), suspend(userId), freshOptions());
      expect(result.revision).toBe(2n);
      expect((await inner.readStream(userStreamId(userId))).map((e) => e.type)).toEqual(['UserRegistered', 'EmailChanged', 'UserSuspended']);
    });

    it('applies the rules to the state it reloaded', async () => {
      const inner = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand(depsOf(inner), register(userId, freshEmail()), freshOptions());
      const store = interceptAppends(inner, isUserStream, async (attempt) => {
        if (attempt === 1) await handleUserCommand(depsOf(inner), suspend(userId), freshOptions());
      });
      expect(await codeOf(handleUserCommand(depsOf(store), changeEmail(userId, freshEmail()), freshOptions()))).toBe('USER_SUSPENDED');
    });

    it('gives up with the conflict after the configured number of attempts', async () => {
      const inner = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand(depsOf(inner), register(userId, freshEmail()), freshOptions());
      const store = interceptAppends(inner, isUserStream, async () => {
        await handleUserCommand(depsOf(inner), changeEmail(userId, freshEmail()), freshOptions());
      });
      expect(await codeOf(handleUserCommand(depsOf(store, 3), suspend(userId), freshOptions()))).toBe('CONCURRENCY_CONFLICT');
      expect(store.attempts()).toBe(3);
    });
  });

  describe('reading older events', () => {
    it('upcasts a stored EmailChanged v1 before deciding', async () => {
      const store = createMemoryEventStore();
      const userId = randomUUID();
      await handleUserCommand(depsOf(store), register(userId, freshEmail()), freshOptions());
      const metadata = { schemaVersion: 1, $correlationId: 'c', $causationId: 'c', commandId: 'c', occurredAt: now.toISOString() };
      await store.appendToStream(
        userStreamId(userId),
        [{ id: randomUUID(), type: 'EmailChanged', data: { userId, email: 'old-format@example.com', changedAt: now.toISOString() }, metadata }],
        { expectedRevision: 0n },
      );
      await handleUserCommand(depsOf(store), verifyEmail(userId, 'old-format@example.com'), freshOptions());
      expect((await store.readStream(userStreamId(userId))).at(-1)?.type).toBe('EmailVerified');
    });
  });

  it('keeps reservation streams apart from the user stream', async () => {
    const store = createMemoryEventStore();
    const email = freshEmail();
    const userId = randomUUID();
    await handleUserCommand(depsOf(store), register(userId, email), freshOptions());
    const reservation = await store.readStream(reservationStreamOf(email));
    expect(reservation.map(({ type, data }) => ({ type, userId: data['userId'] }))).toEqual([{ type: 'EmailReserved', userId }]);
    expect(JSON.stringify(reservation.map(({ streamId, data, metadata }) => ({ streamId, data, metadata })))).not.toContain(email);
  });
});
