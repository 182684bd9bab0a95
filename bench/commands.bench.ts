import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSqliteEventStore } from '#adapters/sqlite/sqliteEventStore';
import { handleUserCommand } from '#application/handleUserCommand';
import { argValue } from './support/args.ts';

/**
 * npm run bench:commands [-- --users N]
 *
 * Command throughput on the embedded default: N registrations, then an email change and a
 * suspension for each, one at a time through handleUserCommand (load, decide, reserve, append),
 * on a fresh SQLite event store. With this branch's code the personal fields are sealed with
 * each user's key from a SQLite key store behind the cache; run from a checkout before
 * encryption the same script measures the old path (it then finds no key modules and passes none).
 *
 * `--plaintext` (benchmark only) measures this code with the cipher and the key store taken out:
 * every user's "key" passes text through unchanged, so the codec still packs the personal fields
 * into one value but nothing is encrypted, no key is created, stored, wrapped or fetched. The
 * difference to a normal run is what sealing costs the command path.
 */
const users = Number(argValue('--users') ?? 2000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'chronicle-bench-commands-'));
const eventStore = createSqliteEventStore({ path: path.join(dir, 'events.sqlite') });

const PLAINTEXT = process.argv.includes('--plaintext');
const passThrough = { seal: (text: string) => text, open: (text: string) => text };

/** This branch's keys (sealed events), or nothing on a checkout that predates them. */
const openKeys = async (): Promise<Record<string, unknown>> => {
  if (PLAINTEXT)
    return {
      keys: {
        forWriting: async () => passThrough,
        forReading: async (userIds: readonly string[]) => new Map(userIds.map((userId) => [userId, passThrough])),
        destroy: async () => undefined,
      },
    };
  try {
    const { createSqliteDataKeyStore } = await import('#adapters/sqlite/sqliteDataKeyStore');
    const { createLocalKeyWrapper } = await import('#adapters/crypto/localKeyWrapper');
    const { aesGcmPersonalDataKey, newDataKey } = await import('#adapters/crypto/aesGcmPersonalDataKey');
    const { createUserKeys } = await import('#application/userKeys');
    const store = createSqliteDataKeyStore({ path: path.join(dir, 'keys.sqlite'), wrapper: createLocalKeyWrapper(new Uint8Array(32).fill(1)) });
    return { keys: createUserKeys({ store, open: aesGcmPersonalDataKey, generate: newDataKey }) };
  } catch {
    return {};
  }
};

/** Reservation stream names under a fixed key where the code names them by HMAC (issue 7 on). */
const reservationNaming = async (): Promise<Record<string, unknown>> => {
  const reservations: Record<string, unknown> = await import('#application/emailReservations');
  const create = reservations['createReservationStreamNaming'];
  return typeof create === 'function' ? { reservationStreamOf: (create as (key: string) => unknown)('bench-reservation-key-0123456789abcdef') } : {};
};

const deps = { eventStore, maxAttempts: 5, ...(await reservationNaming()), ...(await openKeys()) } as Parameters<typeof handleUserCommand>[0];
const now = new Date('2026-11-30T00:00:00.000Z');
const options = (n: number, kind: string) => ({ commandId: `${kind}-${n}`, correlationId: `c-${n}` });
const id = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const time = async (label: string, run: (n: number) => Promise<unknown>): Promise<number> => {
  const startedAt = performance.now();
  for (let n = 0; n < users; n++) await run(n);
  const perSecond = Math.round(users / ((performance.now() - startedAt) / 1000));
  process.stderr.write(`${label}: ${perSecond} commands/s\n`);
  return perSecond;
};

try {
  const load = os.loadavg()[0]!;
  const register = await time('register', (n) =>
    handleUserCommand(deps, { type: 'RegisterUser', data: { userId: id(n), email: `u${n}@example.com`, displayName: `User ${n}` }, metadata: { now } }, options(n, 'r')),
  );
  const change = await time('change email', (n) => handleUserCommand(deps, { type: 'ChangeEmail', data: { userId: id(n), email: `c${n}@example.com` }, metadata: { now } }, options(n, 'c')));
  const suspend = await time('suspend', (n) => handleUserCommand(deps, { type: 'SuspendUser', data: { userId: id(n), reason: 'bench' }, metadata: { now } }, options(n, 's')));
  process.stdout.write(`${JSON.stringify({ users, sealed: 'keys' in deps && !PLAINTEXT, plaintextSwitch: PLAINTEXT, register, change, suspend, loadAverage1m: { atStart: load, atEnd: os.loadavg()[0] } })}\n`);
} finally {
  await eventStore.close();
  rmSync(dir, { recursive: true, force: true });
}
