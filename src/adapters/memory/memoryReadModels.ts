import { UnavailableError, ValidationError } from '#domain/errors';
import { assertLimit, decodeCursor, encodeCursor, orderKeyOf } from '#adapters/shared/userPaging';
import type { UserStatus } from '#domain/userState';
import type { ApplyOutcome, HeldStream, ListUsersQuery, ProjectedEvent, ReadModelChange, ReadModels, UserPage, UserView } from '#ports/readModels';

/**
 * The in-memory twin of the read-model adapters, for unit tests. It follows the same contract
 * suite (test/contract/readModels.contract.ts): same outcomes, same ordering, same cursor
 * format as the SQLite and Redis adapters.
 */
export interface MemoryReadModels extends ReadModels {
  /** The next `count` applyBatch calls fail with `error` (default: an UnavailableError) and write nothing. */
  failNextApplies(count?: number, error?: Error): void;
}

interface StoredUser {
  readonly view: UserView;
  readonly orderKey: string;
}

/**
 * Map writes that can be undone: a batch records what it overwrote and rolls it back if it
 * throws, so that a failed batch writes nothing (without copying every map per batch).
 */
class Journal {
  private readonly undo: Array<() => void> = [];

  set<K, V>(map: Map<K, V>, key: K, value: V): void {
    this.remember(map, key);
    map.set(key, value);
  }

  delete<K, V>(map: Map<K, V>, key: K): void {
    this.remember(map, key);
    map.delete(key);
  }

  rollback(): void {
    for (const step of this.undo.reverse()) step();
  }

  private remember<K, V>(map: Map<K, V>, key: K): void {
    const had = map.has(key);
    const previous = map.get(key);
    this.undo.push(() => (had ? map.set(key, previous as V) : map.delete(key)));
  }
}

export const createMemoryReadModels = (): MemoryReadModels => {
  const users = new Map<string, StoredUser>();
  // Each address with its owner and the log position of that claim: an older claim arriving late
  // (events of different streams are not delivered in log order) never displaces a newer one.
  const emailIndex = new Map<string, { readonly userId: string; readonly at: bigint }>();
  const applied = new Map<string, bigint>();
  const erased = new Map<string, true>();
  let checkpoint: bigint | null = null;
  const held = new Map<string, HeldStream>();
  let pendingFailures: { count: number; error: Error | undefined } = { count: 0, error: undefined };

  const applyChange = (journal: Journal, change: ReadModelChange, event: ProjectedEvent): void => {
    const dropEmail = (email: string, userId: string): void => {
      if (emailIndex.get(email)?.userId === userId) journal.delete(emailIndex, email);
    };
    const claimEmail = (email: string, userId: string): void => {
      const current = emailIndex.get(email);
      if (current === undefined || current.at < event.position) journal.set(emailIndex, email, { userId, at: event.position });
    };
    switch (change.type) {
      case 'userCreated': {
        const previous = users.get(change.user.id);
        if (previous) dropEmail(previous.view.email, previous.view.id);
        const view: UserView = { ...change.user, revision: event.revision, position: event.position };
        journal.set(users, view.id, { view, orderKey: orderKeyOf(view.registeredAt, view.id) });
        claimEmail(view.email, view.id);
        return;
      }
      case 'userPatched': {
        // A patch for a user the read model never saw (its registration was parked) is dropped.
        const previous = users.get(change.userId);
        if (!previous) return;
        const view: UserView = { ...previous.view, ...definedFields(change.fields), revision: event.revision, position: event.position };
        if (view.email !== previous.view.email) {
          dropEmail(previous.view.email, view.id);
          claimEmail(view.email, view.id);
        }
        journal.set(users, view.id, { view, orderKey: previous.orderKey });
        return;
      }
      case 'userErased': {
        const previous = users.get(change.userId);
        if (previous) {
          dropEmail(previous.view.email, change.userId);
          journal.delete(users, change.userId);
        }
        journal.set(erased, change.userId, true);
        return;
      }
      default: {
        const unknown: never = change;
        throw new ValidationError(`unknown read-model change ${JSON.stringify(unknown)}`);
      }
    }
  };

  return {
    async applyBatch(events: readonly ProjectedEvent[], givenCheckpoint: bigint | null): Promise<ApplyOutcome[]> {
      if (pendingFailures.count > 0) {
        pendingFailures = { count: pendingFailures.count - 1, error: pendingFailures.error };
        throw pendingFailures.error ?? new UnavailableError('memory read models: injected failure');
      }
      const journal = new Journal();
      try {
        const outcomes = events.map((event): ApplyOutcome => {
          const current = applied.get(event.streamId);
          if (current !== undefined && event.revision <= current) return 'duplicate';
          if ((event.firstRevision ?? event.revision) !== (current ?? -1n) + 1n) return 'gap';
          for (const change of event.changes) applyChange(journal, change, event);
          journal.set(applied, event.streamId, event.revision);
          return 'applied';
        });
        if (givenCheckpoint !== null && (checkpoint === null || givenCheckpoint > checkpoint)) checkpoint = givenCheckpoint;
        return outcomes;
      } catch (error) {
        journal.rollback();
        throw error;
      }
    },

    async getUser(userId: string): Promise<UserView | null> {
      const stored = users.get(userId);
      return stored ? { ...stored.view } : null;
    },

    async listUsers(query: ListUsersQuery): Promise<UserPage> {
      assertLimit(query.limit);
      const after = query.cursor ? decodeCursor(query.cursor) : null;
      const matching = [...users.values()]
        .filter((u) => (query.status === undefined || u.view.status === query.status) && (after === null || u.orderKey > after))
        .sort((a, b) => (a.orderKey < b.orderKey ? -1 : a.orderKey > b.orderKey ? 1 : 0));
      const page = matching.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map((u) => ({ ...u.view })),
        nextCursor: matching.length > page.length && last ? encodeCursor(last.orderKey) : null,
      };
    },

    async countUsers(status: UserStatus): Promise<number> {
      let count = 0;
      for (const u of users.values()) if (u.view.status === status) count++;
      return count;
    },

    async findUserIdByEmail(email: string): Promise<string | null> {
      return emailIndex.get(email)?.userId ?? null;
    },

    async isUserErased(userId: string): Promise<boolean> {
      return erased.has(userId);
    },

    async getAppliedRevision(streamId: string): Promise<bigint | null> {
      return applied.get(streamId) ?? null;
    },

    async getCheckpoint(): Promise<bigint | null> {
      return checkpoint;
    },

    async holdStream(streamId: string, revision: bigint, reason: string): Promise<void> {
      if (!held.has(streamId)) held.set(streamId, { streamId, revision, reason, heldAt: new Date().toISOString() });
    },

    async releaseStream(streamId: string): Promise<void> {
      held.delete(streamId);
    },

    async getHeldStream(streamId: string): Promise<HeldStream | null> {
      return held.get(streamId) ?? null;
    },

    async listHeldStreams(limit: number): Promise<HeldStream[]> {
      return [...held.values()].slice(0, limit);
    },

    failNextApplies(count = 1, error?: Error): void {
      pendingFailures = { count, error };
    },

    async close(): Promise<void> {},
  };
};

/** `{ email: undefined }` in a patch means "not patched", not "erase". */
const definedFields = <T extends object>(fields: T): Partial<T> =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
