import { evolveUser, initialUserState } from '#domain/userState';
import type { EventStore } from '#ports/eventStore';
import type { UserStatus } from '#domain/userState';
import { userIdFromStreamId, userStreamId } from '#domain/userValues';
import type { ReadModelReader, UserPage, UserView } from '#ports/readModels';
import { USER_STREAM_PREFIXES } from './catchUpReadModel.ts';
import { viewOfState } from './getUserAsOf.ts';
import { loadUserStream, type UserStreamDeps } from './userStream.ts';

export interface Difference {
  readonly userId: string;
  /** A field of the user, `user` (missing on one side), `email index`, or `listing` (a status listing names a user the log does not explain). */
  readonly field: string;
  readonly expected: string | null;
  readonly actual: string | null;
}

export interface VerifyResult {
  readonly users: number;
  readonly checked: number;
  readonly differences: Difference[];
}

export interface VerifyOptions {
  /** Check this many users picked at random; all of them when absent. */
  readonly sample?: number;
  readonly random?: () => number;
  readonly onProgress?: (checked: number, total: number) => void;
}

const COMPARED: ReadonlyArray<keyof UserView> = ['email', 'displayName', 'status', 'emailVerified', 'registeredAt', 'revision'];

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** Every user stream id in the log, or a uniform sample of `sample` of them (reservoir sampling, one pass). */
const userIdsInLog = async (eventStore: Pick<EventStore, 'readAll'>, sample: number | undefined, random: () => number): Promise<{ ids: string[]; total: number; streamIds: ReadonlySet<string> }> => {
  const seen = new Set<string>();
  const picked: string[] = [];
  for (let from = 0n; ; ) {
    const page = await eventStore.readAll({ fromPosition: from, maxCount: 5_000, streamPrefixes: USER_STREAM_PREFIXES });
    for (const event of page) {
      if (seen.has(event.streamId)) continue;
      seen.add(event.streamId);
      const id = userIdFromStreamId(event.streamId);
      if (sample === undefined || picked.length < sample) picked.push(id);
      else {
        const slot = Math.floor(random() * seen.size);
        if (slot < sample) picked[slot] = id;
      }
    }
    const last = page.at(-1);
    if (last === undefined) break;
    from = last.position + 1n;
  }
  return { ids: picked, total: seen.size, streamIds: seen };
};

const LISTED_STATUSES: readonly UserStatus[] = ['active', 'suspended'];

/**
 * The other direction, for a full verify: every user the read model lists, by status, must be
 * one the log explains, listed under its own status. A listed user the log scan did not see is
 * looked up in the log once more (it may have registered since the scan) before it is reported.
 */
const listedUsersNotInLog = async (
  deps: UserStreamDeps & { readonly readModels: ReadModelReader },
  streamIdsInLog: ReadonlySet<string>,
): Promise<Difference[]> => {
  const differences: Difference[] = [];
  for (const status of LISTED_STATUSES) {
    let cursor: string | null = null;
    do {
      const page: UserPage = await deps.readModels.listUsers({ status, cursor, limit: 500 });
      for (const user of page.items) {
        if (user.status !== status) differences.push({ userId: user.id, field: 'listing', expected: user.status, actual: status });
        else if (!streamIdsInLog.has(userStreamId(user.id)) && (await deps.eventStore.readStream(userStreamId(user.id), { maxCount: 1 })).length === 0)
          differences.push({ userId: user.id, field: 'listing', expected: null, actual: status });
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
  }
  return differences;
};

/**
 * Drift detection: compares one read-model version with a fold of the event store, user by
 * user, and reports every difference. The read model may be ahead of or behind the moment
 * each stream is read (the projector keeps writing), so each user is compared with the fold up
 * to the revision the read model holds; a read model behind its own checkpoint is a difference.
 * Without a sample it also checks the other way: every user the read model lists is one the
 * log explains.
 */
export const verifyReadModel = async (
  deps: UserStreamDeps & { readonly readModels: ReadModelReader },
  options: VerifyOptions = {},
): Promise<VerifyResult> => {
  const checkpoint = await deps.readModels.getCheckpoint();
  const { ids, total, streamIds } = await userIdsInLog(deps.eventStore, options.sample, options.random ?? Math.random);
  const differences: Difference[] = [];
  let checked = 0;

  const verifyUser = async (userId: string): Promise<void> => {
    const [stream, actual] = await Promise.all([loadUserStream(deps, userId), deps.readModels.getUser(userId)]);
    let state = initialUserState();
    let expected: UserView | null = null;
    let expectedAtCheckpoint: UserView | null = null;
    for (const [i, event] of stream.stored.entries()) {
      const decoded = stream.decoded[i];
      // A shredded event: the user is erased, and the read models forget it entirely.
      state = decoded === undefined || decoded.shredded ? { status: 'erased', userId } : evolveUser(state, decoded.event);
      const view = viewOfState(state, event.revision, event.position);
      if (checkpoint !== null && event.position <= checkpoint) expectedAtCheckpoint = view;
      // The fold up to the revision the read model holds (or, without one, up to its checkpoint).
      if (actual === null ? event.position <= (checkpoint ?? -1n) : event.revision <= actual.revision) expected = view;
    }
    if (actual !== null && expectedAtCheckpoint !== null && actual.revision < expectedAtCheckpoint.revision)
      differences.push({ userId, field: 'revision', expected: text(expectedAtCheckpoint.revision), actual: text(actual.revision) });
    else if (expected === null || actual === null) {
      if (expected !== actual) differences.push({ userId, field: 'user', expected: expected === null ? null : 'present', actual: actual === null ? null : 'present' });
    } else {
      for (const field of COMPARED) if (text(expected[field]) !== text(actual[field])) differences.push({ userId, field, expected: text(expected[field]), actual: text(actual[field]) });
      const owner = await deps.readModels.findUserIdByEmail(expected.email);
      if (owner !== userId) differences.push({ userId, field: 'email index', expected: userId, actual: owner });
    }
    checked++;
    options.onProgress?.(checked, ids.length);
  };

  // A few users at a time: bounded concurrency against both stores.
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await verifyUser(id);
    }),
  );
  if (options.sample === undefined) differences.push(...(await listedUsersNotInLog(deps, streamIds)));
  return { users: total, checked, differences };
};
