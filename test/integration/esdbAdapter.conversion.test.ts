import { describe, expect, it } from 'vitest';
import { isSystemRecord, toStoredEvent } from '#adapters/eventstoredb/recordedEvent';

const recorded = {
  id: '6f1c2d9e-5b4a-4c1e-9a55-0d7f3e2b1a00',
  streamId: 'user-42',
  type: 'EmailChanged',
  created: new Date('2024-05-01T12:00:00.000Z'),
  data: { email: 'a@example.com' },
  metadata: { schemaVersion: 2 },
};

describe('an event read from EventStoreDB', () => {
  it('keeps 64-bit revisions and positions exactly, as bigint', () => {
    const stored = toStoredEvent({ ...recorded, revision: 9007199254740993n, position: { commit: 18446744073709551000n, prepare: 18446744073709551000n } });
    expect(stored.revision).toBe(9007199254740993n);
    expect(stored.position).toBe(18446744073709551000n);
  });

  it('accepts revisions and positions handed back as numbers (KurrentDB-Client-NodeJS #423, #513)', () => {
    const stored = toStoredEvent({ ...recorded, revision: 7, position: { commit: 123456, prepare: 123456 } });
    expect(stored.revision).toBe(7n);
    expect(stored.position).toBe(123456n);
  });

  it("takes the position from the resolved event's commit position when the record has none", () => {
    expect(toStoredEvent({ ...recorded, revision: 0n }, 5000).position).toBe(5000n);
    expect(() => toStoredEvent({ ...recorded, revision: 0n })).toThrow(/position/);
  });

  it('reads data or metadata that is not a JSON object as empty', () => {
    const stored = toStoredEvent({ ...recorded, revision: 0n, position: { commit: 1n, prepare: 1n }, data: new Uint8Array([1, 2, 3]), metadata: undefined });
    expect(stored.data).toEqual({});
    expect(stored.metadata).toEqual({});
    const fromBytes = toStoredEvent({ ...recorded, revision: 0n, position: { commit: 1n, prepare: 1n }, data: new TextEncoder().encode('{"n":1}') });
    expect(fromBytes.data).toEqual({ n: 1 });
  });

  it('tells system records apart from Chronicle events', () => {
    expect(isSystemRecord({ streamId: '$persistentsubscription-$all::g-parked', type: '$>' })).toBe(true);
    expect(isSystemRecord({ streamId: '$$user-42', type: '$metadata' })).toBe(true);
    expect(isSystemRecord({ streamId: 'user-42', type: 'UserRegistered' })).toBe(false);
  });
});
