import { randomUUID } from 'node:crypto';
import type { CallApi } from '../support/inProcessApi.ts';

/** What a client knows of one command it sent: the independent record the checks compare with. */
export interface SentCommand {
  readonly subject: string;
  readonly key: string;
  readonly userId: string;
  readonly type: 'UserRegistered' | 'EmailChanged' | 'EmailVerified' | 'UserSuspended' | 'UserReactivated';
  /** The caller whose Idempotency-Key it was (the owner, or the admin). */
  readonly callerSubject: string;
  acknowledged: boolean;
}

export interface ClientLedger {
  readonly commands: SentCommand[];
  readonly statuses: Map<number, number>;
  /** 5xx answers other than 503 (an outage): each is a failure of the service. */
  readonly unexpected5xx: string[];
  requests: number;
}

interface Identity {
  readonly subject: string;
  readonly token: string;
  userId: string | null;
}

export interface SoakClientsOptions {
  readonly api: CallApi;
  readonly mint: (subject: string, admin: boolean) => Promise<string>;
  readonly userIdOf: (subject: string) => string;
  readonly clients: number;
  /** A small pool, so that users race for the same addresses. */
  readonly emails: number;
  readonly random: () => number;
  readonly shouldStop: () => boolean;
}

const ATTEMPTS = 6;

/**
 * Concurrent clients issuing a realistic mix: registrations, email changes (into a small
 * shared pool of addresses), verifications, suspensions and reactivations, sometimes two at
 * once on one user. Every command carries an Idempotency-Key and is retried with the same key
 * while the answer is 503 or the call throws, as a careful client does.
 */
export const runSoakClients = async (options: SoakClientsOptions): Promise<ClientLedger> => {
  const ledger: ClientLedger = { commands: [], statuses: new Map(), unexpected5xx: [], requests: 0 };
  const identities: Identity[] = [];
  const admin = { subject: 'soak-admin', token: await options.mint('soak-admin', true) };
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(options.random() * items.length)];
  const email = () => `soak-${Math.floor(options.random() * options.emails)}@example.com`;

  const send = async (caller: { subject: string; token: string }, record: Omit<SentCommand, 'key' | 'acknowledged' | 'callerSubject'>, method: string, path: string, body: unknown) => {
    const command: SentCommand = { ...record, key: randomUUID(), callerSubject: caller.subject, acknowledged: false };
    ledger.commands.push(command);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let status: number;
      try {
        ledger.requests++;
        status = (await options.api(method, path, { token: caller.token, body, headers: { 'idempotency-key': command.key } })).status;
      } catch {
        status = 0;
      }
      ledger.statuses.set(status, (ledger.statuses.get(status) ?? 0) + 1);
      if (status >= 500 && status !== 503) ledger.unexpected5xx.push(`${method} ${path}: ${status}`);
      if (status >= 200 && status < 300) {
        command.acknowledged = true;
        return status;
      }
      if (status !== 503 && status !== 0) return status;
      await new Promise((resolve) => setTimeout(resolve, 50 + options.random() * 200));
    }
    return 503;
  };

  const act = async (): Promise<void> => {
    const registered = identities.filter((identity) => identity.userId !== null);
    const roll = options.random();
    if (roll < 0.3 || registered.length < 5) {
      const subject = `soak-${randomUUID()}`;
      const identity: Identity = { subject, token: await options.mint(subject, false), userId: null };
      identities.push(identity);
      const userId = options.userIdOf(subject);
      const status = await send(identity, { subject, userId, type: 'UserRegistered' }, 'POST', '/users', { email: email(), displayName: `Soak ${subject.slice(5, 13)}` });
      if (status === 201) identity.userId = userId;
      return;
    }
    const target = pick(registered);
    if (target?.userId === null || target === undefined) return;
    const userId = target.userId;
    const changeEmail = () => send(target, { subject: target.subject, userId, type: 'EmailChanged' }, 'POST', `/users/${userId}/email`, { email: email() });
    if (roll < 0.6) await changeEmail();
    else if (roll < 0.7) await Promise.all([changeEmail(), changeEmail()]); // concurrent writers on one user
    else if (roll < 0.8) {
      const current = await options.api('GET', `/users/${userId}`, { token: admin.token }).catch(() => null);
      const address = current?.json['email'];
      if (typeof address === 'string') await send(admin, { subject: target.subject, userId, type: 'EmailVerified' }, 'POST', `/users/${userId}/email/verification`, { email: address });
    } else if (roll < 0.9) await send(admin, { subject: target.subject, userId, type: 'UserSuspended' }, 'POST', `/users/${userId}/suspension`, { reason: 'soak' });
    else await send(admin, { subject: target.subject, userId, type: 'UserReactivated' }, 'POST', `/users/${userId}/reactivation`, {});
  };

  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (!options.shouldStop()) await act();
    }),
  );
  return ledger;
};
