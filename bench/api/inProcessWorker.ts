/**
 * One configuration of the command-path benchmark (bench/api.bench.ts starts it with the
 * environment of that configuration): the Lambdas called in this process, registrations and
 * email changes at each concurrency, queries alongside, and the bare event-store append for the
 * same events as the baseline. Prints one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { DEV_ISSUER, mintDevToken } from '#scripts/devIssuer';
import { userIdOfPrincipal } from '#application/principal';
import { closedLoop, type LatencySummary } from '../support/latency.ts';
import { inProcessApi } from '../support/inProcessApi.ts';

const dataDir = process.env['BENCH_ISSUER_DIR'] ?? '';
const durationMs = Number(process.env['BENCH_DURATION_MS'] ?? 3000);
const concurrencies = (process.env['BENCH_CLIENTS'] ?? '1,10,50').split(',').map(Number);

const api = await inProcessApi();
const { getEventStore } = await import('#wiring');
const eventStore = await getEventStore();

const expectOk = (status: number, what: string) => {
  if (status >= 300) throw new Error(`${what} answered ${status}`);
};

// Every registration is one person registering themselves, with a token of their own.
const tokens: Array<{ subject: string; token: string }> = [];
const tokenFor = async (): Promise<{ subject: string; token: string }> => {
  const subject = `bench-${randomUUID()}`;
  return { subject, token: await mintDevToken(dataDir, { subject }) };
};
const maxRegistrations = Math.max(...concurrencies) * 4000;
const mintAhead = async (count: number) => {
  while (tokens.length < count) tokens.push(...(await Promise.all(Array.from({ length: 200 }, tokenFor))));
};

const results: Record<string, unknown> = {};
const registered: Array<{ id: string; token: string }> = [];
for (const clients of concurrencies) {
  await mintAhead(Math.min(maxRegistrations, clients * 2500));
  const registration = await closedLoop(clients, durationMs, async () => {
    const identity = tokens.pop() ?? (await tokenFor());
    const answer = await api('POST', '/users', { token: identity.token, body: { email: `${identity.subject}@example.com`, displayName: 'Bench' } });
    expectOk(answer.status, 'registration');
    registered.push({ id: userIdOfPrincipal({ issuer: DEV_ISSUER, subject: identity.subject }), token: identity.token });
  });
  const owners = registered.slice(-Math.max(clients, 50));
  const emailChange = await closedLoop(clients, durationMs, async (client, n) => {
    const owner = owners[(client + n * clients) % owners.length] ?? owners[0];
    if (owner === undefined) return;
    const answer = await api('POST', `/users/${owner.id}/email`, { token: owner.token, body: { email: `moved-${randomUUID()}@example.com` } });
    expectOk(answer.status, 'email change');
  });
  const query = await closedLoop(clients, durationMs, async (client, n) => {
    const owner = registered[(client * 7919 + n) % registered.length];
    if (owner !== undefined) await api('GET', `/users/${owner.id}`, { token: owner.token });
  });
  const append = await closedLoop(clients, durationMs, async () => {
    const streamId = `benchAppend-${randomUUID()}`;
    const metadata = { schemaVersion: 1, $correlationId: 'b', $causationId: 'b', commandId: 'b', occurredAt: new Date().toISOString() };
    await eventStore.appendToStream(streamId, [{ id: randomUUID(), type: 'UserRegistered', data: { userId: randomUUID(), email: 'x@example.com', displayName: 'Bench', registeredAt: new Date().toISOString() }, metadata }], {
      expectedRevision: 'no_stream',
    });
  });
  const ratio = (summary: LatencySummary) => Math.round((summary.perSecond / append.perSecond) * 100) / 100;
  results[String(clients)] = { registration, emailChange, query, bareAppend: append, registrationToAppend: ratio(registration), emailChangeToAppend: ratio(emailChange) };
}
process.stdout.write(`BENCH_RESULT ${JSON.stringify(results)}\n`);
process.exit(0);
