import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '#adapters/memory/memoryEventStore';
import { createMemorySnapshotStore } from '#adapters/memory/memorySnapshotStore';
import { commandEventId } from '#application/eventIds';
import { eraseUser } from '#application/eraseUser';
import { getUserAsOf } from '#application/getUserAsOf';
import { handleUserCommand, type CommandDeps } from '#application/handleUserCommand';
import { loadUserStreamForCommand, RECENT_EVENT_IDS, type UserSnapshotSettings } from '#application/userSnapshots';
import { loadUserStream } from '#application/userStream';
import { isChronicleError } from '#domain/errors';
import { eventTag, sealUserSnapshot, USER_SNAPSHOT_FORMAT } from '#domain/userSnapshot';
import { userStreamId } from '#domain/userValues';
import type { EventStore, ReadStreamOptions } from '#ports/eventStore';
import type { Snapshot, SnapshotStore } from '#ports/snapshotStore';
import { memoryUserKeys } from '#test/support/memoryUserKeys';
import { changeEmail, freshEmail, freshOptions, interceptAppends, isUserStream, now, reactivate, register, reservationStreamOf, suspend } from './commandFixtures.ts';

const EVERY = 5;

/**
 * An event store that remembers every stream read, so a test can see how much of a stream a load
 * read. `inner` is a plain object of closures (the memory store), so spreading it keeps the rest.
 */
const recordingReads = (inner: EventStore): EventStore & { readonly reads: Array<{ streamId: string; options: ReadStreamOptions | undefined; count: number }> } => {
  const reads: Array<{ streamId: string; options: ReadStreamOptions | undefined; count: number }> = [];
  return {
    ...inner,
    readStream: async (streamId, options) => {
      const events = await inner.readStream(streamId, options);
      reads.push({ streamId, options, count: events.length });
      return events;
    },
    reads,
  };
};

const setup = (options: { store?: SnapshotStore; every?: number } = {}) => {
  const eventStore = recordingReads(createMemoryEventStore());
  const store = options.store ?? createMemorySnapshotStore();
  const failures: Array<{ error: unknown; step: string }> = [];
  const snapshots: UserSnapshotSettings = { store, every: options.every ?? EVERY, onFailure: (error, context) => failures.push({ error, step: context.step }) };
  const keys = memoryUserKeys();
  const deps: CommandDeps = { eventStore, reservationStreamOf, keys, maxAttempts: 5, snapshots };
  const withoutSnapshots: CommandDeps = { eventStore, reservationStreamOf, keys, maxAttempts: 5 };
  return { eventStore, store, keys, deps, withoutSnapshots, failures };
};

/**
 * A user registered, then suspended and reactivated in turn until the stream holds `events`
 * events: odd revisions are suspensions, so it ends suspended when `events` is even. With
 * EVERY = 5, snapshots are written at revisions 5, 10, 15…
 */
const longUser = async (deps: CommandDeps, events: number, email = freshEmail()) => {
  const userId = randomUUID();
  await handleUserCommand(deps, register(userId, email, 'Snap Shot'), freshOptions());
  for (let i = 1; i < events; i++) await handleUserCommand(deps, i % 2 === 1 ? suspend(userId) : reactivate(userId), freshOptions());
  return { userId, streamId: userStreamId(userId), email };
};

const codeOf = async (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'no error',
    (error: unknown) => (isChronicleError(error) ? error.code : `unexpected: ${String(error)}`),
  );

describe('user snapshots', () => {
  describe('when a stream is shorter than the interval', () => {
    it('writes no snapshot, and a command reads the stream once', async () => {
      const { deps, store, eventStore } = setup();
      const { streamId, userId } = await longUser(deps, EVERY - 1);
      expect(await store.read(streamId)).toBeNull();
      const before = eventStore.reads.length;
      await handleUserCommand(deps, reactivate(userId), freshOptions());
      expect(eventStore.reads.slice(before).filter((read) => read.streamId === streamId)).toHaveLength(1);
    });
  });

  describe('when a stream grows past the interval', () => {
    it('writes a snapshot sealed with the user’s key: its bytes hold neither the email nor the name', async () => {
      const { deps, store } = setup();
      const { streamId, email } = await longUser(deps, 12);
      const snapshot = await store.read(streamId);
      expect(snapshot).toMatchObject({ streamId, revision: 10n, format: USER_SNAPSHOT_FORMAT });
      expect(snapshot?.payload).not.toContain(email);
      expect(snapshot?.payload).not.toContain('Snap Shot');
      expect(JSON.stringify({ ...snapshot, revision: String(snapshot?.revision), position: String(snapshot?.position) })).not.toContain(email.split('@')[0]);
    });

    it('loads the state from the snapshot and reads only the events after it, to the same state as a full fold', async () => {
      const { deps, eventStore } = setup();
      const { userId, streamId } = await longUser(deps, 13);
      const before = eventStore.reads.length;
      const loaded = await loadUserStreamForCommand(deps, userId);
      const reads = eventStore.reads.slice(before).filter((read) => read.streamId === streamId);
      const full = await loadUserStream(deps, userId);
      expect(loaded.snapshot?.revision).toBe(10n);
      expect(loaded.stored.map((event) => event.revision)).toEqual([11n, 12n]);
      expect(loaded.state).toEqual(full.state);
      expect([loaded.revision, loaded.position]).toEqual([full.revision, full.position]);
      // One read of the stream: its last EVERY events, which hold the snapshot's event and all after it.
      expect(reads.map((read) => [read.options?.direction, read.count])).toEqual([['backwards', EVERY]]);
    });

    it('reads on from the snapshot when it is older than the last interval', async () => {
      const { deps, store } = setup();
      const { userId, streamId } = await longUser(deps, 13);
      const old = await store.read(streamId);
      await longUserTail(deps, userId, 8);
      if (old === null) throw new Error('no snapshot was written');
      await store.write(old);
      const loaded = await loadUserStreamForCommand(deps, userId);
      expect(loaded.snapshot?.revision).toBe(10n);
      expect(loaded.stored).toHaveLength(10);
      expect(loaded.state).toEqual((await loadUserStream(deps, userId)).state);
    });

    it('decides on the snapshot’s state and appends with the real stream’s revision', async () => {
      const { deps, eventStore } = setup();
      const { userId, streamId } = await longUser(deps, 13);
      const result = await handleUserCommand(deps, suspend(userId), freshOptions());
      expect(result.revision).toBe(13n);
      const [last] = await eventStore.readStream(streamId, { direction: 'backwards', maxCount: 1 });
      expect(last).toMatchObject({ type: 'UserSuspended', revision: 13n, position: result.position });
      expect(await codeOf(handleUserCommand(deps, suspend(userId), freshOptions()))).toBe('USER_ALREADY_SUSPENDED');
    });

    it('takes the revision and position from the snapshot alone when no event follows it', async () => {
      const { deps, store } = setup();
      const { userId, streamId } = await longUser(deps, 11);
      const snapshot = await store.read(streamId);
      const loaded = await loadUserStreamForCommand(deps, userId);
      expect([loaded.snapshot?.revision, loaded.stored.length, loaded.revision, loaded.position]).toEqual([10n, 0, 10n, snapshot?.position]);
      expect((await handleUserCommand(deps, suspend(userId), freshOptions({ expectedRevision: 10n }))).revision).toBe(11n);
    });

    it('still loses a concurrency race exactly: a write between load and append is retried on the new revision', async () => {
      const { deps } = setup();
      const { userId } = await longUser(deps, 13);
      const racing = interceptAppends(deps.eventStore, isUserStream, async (attempt) => {
        if (attempt !== 1) return;
        await handleUserCommand(deps, suspend(userId), freshOptions());
        await handleUserCommand(deps, reactivate(userId), freshOptions());
      });
      // The racer wrote revisions 13 and 14 (and a snapshot at 14): the retried suspension appends at 15.
      const result = await handleUserCommand({ ...deps, eventStore: racing }, suspend(userId), freshOptions());
      expect(result.revision).toBe(15n);
      expect(racing.attempts()).toBe(2);
      expect((await loadUserStream(deps, userId)).state).toMatchObject({ status: 'suspended' });
      expect(await codeOf(handleUserCommand({ ...deps, eventStore: racing }, reactivate(userId), freshOptions({ expectedRevision: 14n })))).toBe('PRECONDITION_FAILED');
    });

    it('answers a retried command whose events the snapshot stands in for with its first result, appending nothing', async () => {
      const { deps, store, eventStore } = setup();
      const { userId, streamId } = await longUser(deps, 8);
      const options = freshOptions();
      const first = await handleUserCommand(deps, reactivate(userId), options);
      expect(first.revision).toBe(8n);
      await longUserTail(deps, userId, 4);
      expect((await store.read(streamId))?.revision).toBe(10n);
      expect(await handleUserCommand(deps, reactivate(userId), options)).toEqual(first);
      expect(await eventStore.readStream(streamId)).toHaveLength(13);
      expect(commandEventId(options.commandId, streamId, 0)).toBe((await eventStore.readStream(streamId, { fromRevision: 8n, maxCount: 1 }))[0]?.id);
    });
  });

  describe('when the snapshot cannot be trusted', () => {
    /** A user of 13 events (active at the end, snapshot at 10), and a lying snapshot with another email. */
    const withLyingSnapshot = async (lie: (honest: Snapshot, seal: (place: Partial<Snapshot>) => string) => Snapshot) => {
      const context = setup();
      const { userId, streamId, email } = await longUser(context.deps, 13);
      const honest = await context.store.read(streamId);
      if (honest === null) throw new Error('no snapshot was written');
      const key = await context.keys.forWriting(userId);
      const full = await loadUserStream(context.deps, userId);
      const lied = { ...full.state, email: LIAR } as never;
      const seal = (place: Partial<Snapshot>) =>
        sealUserSnapshot({ state: lied, recentEventTags: [] }, key, { streamId, revision: honest.revision, eventId: honest.eventId, format: honest.format, ...place });
      await context.store.write(lie(honest, seal));
      return { ...context, userId, streamId, email };
    };
    const LIAR = 'liar@example.com';

    const expectFullFold = async ({ deps, userId, email }: { deps: CommandDeps; userId: string; email: string }) => {
      const loaded = await loadUserStreamForCommand(deps, userId);
      expect(loaded.snapshot).toBeNull();
      expect(loaded.state).toMatchObject({ status: 'active', email });
      // Decided on the true state: a change to the lie's address is a change, not EMAIL_UNCHANGED.
      expect((await handleUserCommand(deps, changeEmail(userId, LIAR), freshOptions())).revision).toBe(13n);
    };

    it('trusts a well-formed one (the lie shows: the control case)', async () => {
      const { deps, userId } = await withLyingSnapshot((honest, seal) => ({ ...honest, payload: seal({}) }));
      expect((await loadUserStreamForCommand(deps, userId)).state).toMatchObject({ email: LIAR });
      expect(await codeOf(handleUserCommand(deps, changeEmail(userId, LIAR), freshOptions()))).toBe('EMAIL_UNCHANGED');
    });

    it('folds in full when its payload is corrupt', async () => {
      await expectFullFold(await withLyingSnapshot((honest) => ({ ...honest, payload: `${honest.payload.slice(0, -6)}AAAAAA` })));
    });

    it('folds in full when it is not sealed at all', async () => {
      await expectFullFold(await withLyingSnapshot((honest) => ({ ...honest, payload: '{"state":{"status":"suspended"}}' })));
    });

    it('folds in full when the stream does not hold the event it names at its revision (stale, or of another history)', async () => {
      await expectFullFold(await withLyingSnapshot((honest, seal) => ({ ...honest, eventId: randomUUID(), payload: seal({ eventId: honest.eventId }) })));
    });

    it('folds in full when it claims a revision the stream has not reached', async () => {
      await expectFullFold(await withLyingSnapshot((honest, seal) => ({ ...honest, revision: 99n, payload: seal({ revision: 99n }) })));
    });

    it('folds in full when it was sealed for another revision (moved)', async () => {
      await expectFullFold(await withLyingSnapshot((honest, seal) => ({ ...honest, payload: seal({ revision: honest.revision - 1n }) })));
    });

    it('folds in full when it was folded by an older state schema or other upcasters', async () => {
      const format = 'user-state.0;UserRegistered.1';
      await expectFullFold(await withLyingSnapshot((honest, seal) => ({ ...honest, format, payload: seal({ format }) })));
    });

    it('folds in full when the store fails, and the command goes on', async () => {
      const failing: SnapshotStore = {
        read: async () => Promise.reject(new Error('snapshot store down')),
        write: async () => Promise.reject(new Error('snapshot store down')),
        close: async () => undefined,
      };
      const { deps, failures } = setup({ store: failing });
      const { userId } = await longUser(deps, 12);
      expect((await handleUserCommand(deps, reactivate(userId), freshOptions())).revision).toBe(12n);
      expect(failures.map((failure) => failure.step)).toContain('read');
      expect(failures.map((failure) => failure.step)).toContain('write');
    });
  });

  describe('when the user is erased', () => {
    it('leaves no snapshot that opens: with the key destroyed, loads fold in full and find the user erased', async () => {
      const { deps, store, keys } = setup();
      const { userId, streamId } = await longUser(deps, 12);
      const snapshot = await store.read(streamId);
      expect(snapshot).not.toBeNull();
      await eraseUser(deps, { type: 'EraseUser', data: { userId }, metadata: { now } }, freshOptions());
      expect((await keys.forReading([userId])).get(userId)).toBeNull();
      const loaded = await loadUserStreamForCommand(deps, userId);
      expect(loaded.snapshot).toBeNull();
      expect(loaded.state).toEqual({ status: 'erased', userId });
      expect(await codeOf(handleUserCommand(deps, reactivate(userId), freshOptions()))).toBe('USER_ERASED');
      expect(await codeOf(getUserAsOf(deps, userId, { atRevision: 11n }))).toBe('USER_ERASED');
    });
  });

  describe('for temporal queries', () => {
    it('folds on from a snapshot at or before the revision asked for, to the same answer as a full fold', async () => {
      const { deps, withoutSnapshots, eventStore } = setup();
      const { userId, streamId } = await longUser(deps, 13);
      for (const atRevision of [12n, 10n, 9n, 3n]) {
        const before = eventStore.reads.length;
        const answer = await getUserAsOf(deps, userId, { atRevision });
        const fromRevisions = eventStore.reads.slice(before).filter((read) => read.streamId === streamId && read.options?.direction !== 'backwards');
        // From the snapshot (revision 10) when it is not later than asked; from the start otherwise.
        expect(fromRevisions.some((read) => read.options?.fromRevision === 0n)).toBe(atRevision < 10n);
        expect(answer).toEqual(await getUserAsOf(withoutSnapshots, userId, { atRevision }));
      }
    });

    it('ignores a snapshot that cannot be trusted', async () => {
      const { deps, withoutSnapshots, store } = setup();
      const { userId, streamId } = await longUser(deps, 13);
      const honest = await store.read(streamId);
      if (honest === null) throw new Error('no snapshot was written');
      await store.write({ ...honest, eventId: randomUUID() });
      expect(await getUserAsOf(deps, userId, { atRevision: 12n })).toEqual(await getUserAsOf(withoutSnapshots, userId, { atRevision: 12n }));
    });
  });

  it('keeps at most RECENT_EVENT_IDS event ids in a snapshot', async () => {
    // A snapshot after every command, each carrying the last one's tags on: a stream past the cap.
    const { deps, store, eventStore } = setup({ every: 1 });
    const events = RECENT_EVENT_IDS + 5;
    const { userId, streamId } = await longUser(deps, events);
    const last = BigInt(events - 1);
    expect((await store.read(streamId))?.revision).toBe(last);
    const loaded = await loadUserStreamForCommand(deps, userId);
    expect(loaded.snapshot?.revision).toBe(last);
    const tags = (await eventStore.readStream(streamId)).map((event) => eventTag(event.id));
    // The newest RECENT_EVENT_IDS, oldest first; the 5 oldest (the registration among them) dropped.
    expect(loaded.snapshot?.recentEventTags).toHaveLength(RECENT_EVENT_IDS);
    expect(loaded.snapshot?.recentEventTags).toEqual(tags.slice(5));
  });
});

/** More events on an existing long user, alternating suspension and reactivation from its current state. */
const longUserTail = async (deps: CommandDeps, userId: string, events: number) => {
  for (let i = 0; i < events; i++) {
    const { state } = await loadUserStream(deps, userId);
    await handleUserCommand(deps, state.status === 'suspended' ? reactivate(userId) : suspend(userId), freshOptions());
  }
};
