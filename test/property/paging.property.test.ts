import fc from 'fast-check';
import { describe, expect } from 'vitest';
import type { UserStatus } from '#domain/userState';
import type { ProjectedEvent, ReadModels } from '#ports/readModels';
import { describeOnEveryReadModel, type ReadModelTarget } from './readModelTargets.ts';

/** A registration: its time in whole seconds from a base (ties are common on purpose) and its status. */
interface Registration {
  readonly second: number;
  readonly suspended: boolean;
}

interface Scenario {
  readonly before: readonly Registration[];
  /** Registrations applied between two page reads: `during[i]` after page i. */
  readonly during: readonly (readonly Registration[])[];
  readonly limit: number;
  readonly status: UserStatus | undefined;
}

const registration = fc.record({ second: fc.nat(40), suspended: fc.boolean() });

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  before: fc.array(registration, { maxLength: 30 }),
  during: fc.array(fc.array(registration, { maxLength: 5 }), { maxLength: 20 }),
  limit: fc.integer({ min: 1, max: 7 }),
  status: fc.constantFrom<UserStatus | undefined>(undefined, 'active', 'suspended'),
});

const BASE = Date.UTC(2026, 0, 1);

/** Writes registrations (each its own stream) the way the projector would: one atomic batch. */
const register = async (readModels: ReadModels, registrations: readonly Registration[], next: { position: bigint; user: number }, tag: string): Promise<{ id: string; status: UserStatus; order: string }[]> => {
  const users = registrations.map((r) => {
    next.user += 1;
    const id = `${tag}-0000-4000-8000-${next.user.toString(16).padStart(12, '0')}`;
    const registeredAt = new Date(BASE + r.second * 1000).toISOString();
    return { id, registeredAt, status: (r.suspended ? 'suspended' : 'active') as UserStatus };
  });
  const events: ProjectedEvent[] = users.flatMap((user) => {
    next.position += 1n;
    const created: ProjectedEvent = {
      streamId: `user-${user.id}`,
      revision: 0n,
      position: next.position,
      changes: [{ type: 'userCreated', user: { id: user.id, email: `${user.id}@example.com`, displayName: 'Someone', status: 'active', emailVerified: false, registeredAt: user.registeredAt } }],
    };
    if (user.status === 'active') return [created];
    next.position += 1n;
    return [created, { streamId: `user-${user.id}`, revision: 1n, position: next.position, changes: [{ type: 'userPatched', userId: user.id, fields: { status: 'suspended' } }] }];
  });
  if (events.length > 0) await readModels.applyBatch(events, next.position);
  return users.map((user) => ({ id: user.id, status: user.status, order: `${user.registeredAt}/${user.id}` }));
};

const pagingProperty = (fresh: () => Promise<ReadModelTarget>) =>
  fc.asyncProperty(scenarioArbitrary, fc.nat(0xffffff), async (scenario, run) => {
    const target = await fresh();
    const { readModels } = target;
    try {
      const tag = run.toString(16).padStart(8, '0');
      const next = { position: 0n, user: 0 };
      const wanted = (user: { status: UserStatus }): boolean => scenario.status === undefined || user.status === scenario.status;
      const existing = (await register(readModels, scenario.before, next, tag)).filter(wanted);
      const added: { id: string; order: string }[] = [];
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 500; page += 1) {
        const answer = await readModels.listUsers({ limit: scenario.limit, cursor, ...(scenario.status === undefined ? {} : { status: scenario.status }) });
        expect(answer.items.length).toBeLessThanOrEqual(scenario.limit);
        seen.push(...answer.items.map((item) => item.id));
        cursor = answer.nextCursor;
        if (cursor === null) break;
        // Others register while the caller reads the next page.
        added.push(...(await register(readModels, scenario.during[page] ?? [], next, tag)).filter(wanted));
      }
      // 1. no page repeats a user
      expect(new Set(seen).size, `repeated: ${seen.join(' ')}`).toBe(seen.length);
      // 2. no user who was there from the start is skipped
      expect(seen.filter((id) => existing.some((user) => user.id === id))).toEqual([...existing].sort((a, b) => (a.order < b.order ? -1 : 1)).map((user) => user.id));
      // 3. the listing is in registration order (ties by id), newcomers included
      const orderOf = new Map([...existing, ...added].map((user) => [user.id, user.order]));
      const orders = seen.map((id) => orderOf.get(id) ?? '');
      expect(orders).toEqual([...orders].sort());
    } finally {
      await target.cleanup();
    }
  });

const NAME = 'never repeats or skips a user while others register';

describe('paging through users, for any registrations before and during the listing', () => {
  describeOnEveryReadModel(NAME, pagingProperty, { file: import.meta.url, runs: { memory: 200, sqlite: 80, redis: 80 } });
});
