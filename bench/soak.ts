/**
 * npm run soak [-- --quick] [--minutes N] [--seed N] [--blue-green N]
 *
 * Chaos under load, in the production shape on this machine: the EventStoreDB emulator (test
 * infrastructure, for its fault injection), a private Redis keeping an append-only file, the
 * Lambdas in this process (the real handlers and wiring), and the projector as a child process.
 * Concurrent clients send a realistic mix of commands while a chaos loop SIGKILLs the
 * projector, kills and restarts Redis, drops and delays EventStoreDB connections, fails
 * appends and switches read models blue/green (rebuild + activate). At the end the log is checked against the clients' own record, and the read model
 * against a clean replay of the log. Writes bench/results/soak.json; exits 1 on any loss,
 * duplicate, mismatch or unexpected 5xx.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { connectRedis } from '#adapters/redis/connectRedis';
import { registryKeys } from '#adapters/redis/readModelKeys';
import { createRedisReadModels } from '#adapters/redis/redisReadModels';
import { createEventStoreDBClient, createEventStoreDBEventStore } from '#adapters/eventstoredb/index';
import { userIdOfPrincipal } from '#application/principal';
import { randomBytes } from 'node:crypto';
import { createLocalKeyWrapper } from '#adapters/crypto/localKeyWrapper';
import { aesGcmPersonalDataKey, newDataKey } from '#adapters/crypto/aesGcmPersonalDataKey';
import { createEventStoreDBDataKeyStore } from '#adapters/eventstoredb/eventStoreDBDataKeyStore';
import { createUserKeys } from '#application/userKeys';
import { userBatchProjection } from '#application/userProjection';
import { userIdFromStreamId } from '#domain/userValues';
import { DEV_AUDIENCE, DEV_ISSUER, localHttpSecrets, mintDevToken, serveDevJwks } from '#scripts/devIssuer';
import { startEsdbEmulator } from '#test/support/esdb-emulator/index';
import { startPersistentRedis } from '#test/support/persistentRedis';
import { bundleProjector, startProjectorProcess, type ProjectorProcess } from '#test/support/projectorProcess';
import { dumpReadModel } from '#test/support/readModelDump';
import { tempDir } from '#test/support/tempDir';
import { seededRandom } from '#test/support/userTraffic';
import { inProcessApi } from './support/inProcessApi.ts';
import { runSoakClients } from './soak/soakClients.ts';
import { planChaos, runChaos } from './soak/soakChaos.ts';
import { checkLog, readUserLog } from './soak/soakChecks.ts';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, minutes: { type: 'string' }, seed: { type: 'string' }, 'blue-green': { type: 'string' } },
});
const quick = values.quick;
const minutes = Number(values.minutes ?? (quick ? 2 : 20));
const seed = Number(values.seed ?? Date.now() % 1_000_000);
// Blue/green switches (read-models rebuild + activate of the next version) under the same chaos.
const switches = Number(values['blue-green'] ?? (quick ? 1 : Math.max(3, Math.floor(minutes / 5))));
const faults = quick
  ? { kills: 6, redisRestarts: 3, drops: 12, switches }
  : { kills: Math.max(50, minutes * 3), redisRestarts: Math.max(10, minutes), drops: Math.max(100, minutes * 6), switches };
const random = seededRandom(seed);
const log = (line: string) => console.log(`[soak] ${line}`);
const startedAt = Date.now();
log(`seed ${seed} (replay: npm run soak -- ${quick ? '--quick ' : ''}--minutes ${minutes} --seed ${seed} --blue-green ${switches})`);

// 1. The stores: the emulator and a Redis that keeps what it acknowledged across a SIGKILL.
const dir = tempDir('chronicle-soak-');
const emulator = await startEsdbEmulator();
const redis = await startPersistentRedis(dir.path);
const issuer = await serveDevJwks(dir.path);
const version = 1;
const REGISTRY_NAMESPACE = 'rm:';
const replayVersion = 999_999;
// The API, the projector and the checks below must all unwrap the same data keys.
const wrappingKey = randomBytes(32);

// 2. The Lambdas, in this process, configured for production stores. Their JSON log lines go to
// a file (outages make many), the soak's own lines to the terminal.
const lambdaLog = path.join(dir.path, 'lambdas.log');
let lambdaLogLines = 0;
/**
 * The Lambdas' lines: Powertools' JSON (`{"level"…`, warnings and errors on stderr) and its
 * console notes when invocations overlap in one process, which they never do on Lambda.
 */
const isLambdaLine = (chunk: unknown): chunk is string =>
  typeof chunk === 'string' && (chunk.startsWith('{') || chunk.startsWith('Dimension "') || chunk.startsWith('No application metrics'));
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (!isLambdaLine(chunk)) return write(chunk, ...(rest as []));
    lambdaLogLines++;
    appendFileSync(lambdaLog, chunk);
    return true;
  }) as typeof stream.write;
}
Object.assign(process.env, {
  EVENTSTORE_CONNECTION_STRING: emulator.connectionString,
  REDIS_URL: redis.url,
  READ_MODEL_VERSION: String(version),
  READ_MODEL_REGISTRY_NAMESPACE: REGISTRY_NAMESPACE,
  AUTH_ISSUER: DEV_ISSUER,
  AUTH_AUDIENCE: DEV_AUDIENCE,
  AUTH_JWKS_URL: issuer.jwksUrl,
  LOG_LEVEL: 'warn',
  CONSISTENCY_WAIT_MS: '0',
  DATA_KEY_WRAPPING_KEY: wrappingKey.toString('base64'),
  ...localHttpSecrets(dir.path),
});
const api = await inProcessApi();

// 3. The projector, a child process we can SIGKILL.
const bundle = await bundleProjector();
const projectorEnv = {
  EVENTSTORE_CONNECTION_STRING: emulator.connectionString,
  REDIS_URL: redis.url,
  READ_MODEL_VERSION: String(version),
  PROJECTOR_GROUP: 'chronicle-soak',
  // The test harness gives each projector a registry namespace of its own; the soak's API, CLI
  // and checks share this private Redis's default one, and so must the projector.
  READ_MODEL_REGISTRY_NAMESPACE: REGISTRY_NAMESPACE,
  PROJECTOR_SUBSCRIPTION_MESSAGE_TIMEOUT_MS: '2000',
  PROJECTOR_RETRY_MAX_ELAPSED_MS: '10000',
  LOG_LEVEL: 'warn',
  DATA_KEY_WRAPPING_KEY: wrappingKey.toString('base64'),
};
let projector: ProjectorProcess = startProjectorProcess(projectorEnv, bundle);

let activeVersion = version;
/** A read-model CLI run in a child process (as an operator runs it); answers its exit code. */
const runCli = (args: readonly string[], env: Readonly<Record<string, string>>): Promise<number> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: path.resolve(import.meta.dirname, '..'), env: { ...process.env, ...env }, stdio: 'ignore' });
    child.once('exit', (code) => resolve(code ?? 1));
  });

let stop = false;
const durationMs = minutes * 60_000;
const clients = runSoakClients({
  api,
  mint: (subject, admin) => mintDevToken(dir.path, { subject, admin }),
  userIdOf: (subject) => userIdOfPrincipal({ issuer: DEV_ISSUER, subject }),
  clients: 8,
  emails: quick ? 1000 : 10_000,
  random,
  shouldStop: () => stop,
});
const chaos = await runChaos(
  planChaos(faults, random),
  durationMs,
  {
    emulator,
    killProjector: async () => {
      await projector.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 200 + random() * 1500));
      projector = startProjectorProcess(projectorEnv, bundle);
    },
    blueGreen: async () => {
      // The operator's path: `npm run read-models -- rebuild N`, then `activate N`, while traffic,
      // the projector and the other faults go on.
      const next = activeVersion + 1;
      const cli = (...args: string[]) => runCli(['src/projector/readModelsCli.ts', ...args, '--json'], projectorEnv);
      // A rebuild that a fault broke off is run again, as an operator would: it continues from
      // the version's checkpoint (resumable), never starting over.
      let rebuilt = false;
      for (let attempt = 0; attempt < 5 && !rebuilt; attempt++) {
        rebuilt = (await cli('rebuild', String(next))) === 0;
        if (!rebuilt) log(`rebuild of version ${next} failed (attempt ${attempt + 1}); running it again`);
      }
      if (!rebuilt) return false;
      for (let attempt = 0; attempt < 20; attempt++) {
        if ((await cli('activate', String(next))) === 0) {
          activeVersion = next;
          log(`read models switched to version ${next}`);
          return true;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return false;
    },
    restartRedis: async () => {
      await redis.stop('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 200 + random() * 1500));
      await redis.start();
    },
  },
  random,
  log,
);
emulator.faults.reset();
stop = true;
const ledger = await clients;
log(`clients done: ${ledger.requests} requests, ${ledger.commands.filter((c) => c.acknowledged).length} commands acknowledged`);

// 4. The log against the clients' record.
const checkClient = createEventStoreDBClient(emulator.connectionString);
const eventStore = createEventStoreDBEventStore(checkClient);
const events = await readUserLog(eventStore);
const userKeys = createUserKeys({
  store: createEventStoreDBDataKeyStore(checkClient, { wrapper: createLocalKeyWrapper(wrappingKey) }),
  open: aesGcmPersonalDataKey,
  generate: newDataKey,
});
const keysFound = await userKeys.forReading([...new Set(events.map((event) => userIdFromStreamId(event.streamId)))]);
const logCheck = checkLog(events, ledger.commands, DEV_ISSUER, (userId) => keysFound.get(userId) ?? null);

// 5. The projector's read model against a clean replay of the same log (bounded wait for catch-up).
const redisClient = createClient({ url: redis.url });
await redisClient.connect();
const replay = createRedisReadModels({ client: await connectRedis(redis.url), version: replayVersion });
for (let i = 0; i < events.length; i += 1000) {
  const page = events.slice(i, i + 1000);
  const projectOne = await userBatchProjection(userKeys)(page);
  await replay.applyBatch(page.map(projectOne), page.at(-1)?.position ?? null);
}
const comparable = async (v: number) => {
  const dump = await dumpReadModel(redisClient, v);
  dump.delete('checkpoint'); // positions past the last user event differ by design
  // Where in the log each address was claimed: a rebuild folds a user's events into one write,
  // so it records the fold's position; the index it orders (users:by-email) is compared.
  dump.delete('users:by-email:at');
  return dump;
};
const expected = await comparable(replayVersion);
let mismatches: string[] = [];
const deadline = Date.now() + 90_000;
for (;;) {
  // The version queries read: a blue/green switch during the run moved it.
  const active = Number((await redisClient.get(registryKeys(REGISTRY_NAMESPACE).active)) ?? version);
  const actual = await comparable(active);
  const names = new Set([...expected.keys(), ...actual.keys()]);
  mismatches = [...names].filter((name) => JSON.stringify(expected.get(name)) !== JSON.stringify(actual.get(name)));
  if (mismatches.length === 0 || Date.now() > deadline) break;
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

const result = {
  minutes: Math.round(((Date.now() - startedAt) / 60_000) * 10) / 10,
  seed,
  quick,
  commandsAcknowledged: ledger.commands.filter((c) => c.acknowledged).length,
  commandsSent: ledger.commands.length,
  requests: ledger.requests,
  userEvents: logCheck.userEvents,
  projectorKills: chaos.projectorKills,
  redisRestarts: chaos.redisRestarts,
  connectionDrops: chaos.connectionDrops,
  connectionDelays: chaos.delays,
  failedAppendBursts: chaos.failedAppends,
  blueGreenSwitches: chaos.blueGreenSwitches,
  activeReadModelVersion: Number((await redisClient.get(registryKeys(REGISTRY_NAMESPACE).active)) ?? version),
  eventsLost: logCheck.eventsLost,
  eventsDuplicated: logCheck.eventsDuplicated,
  unacknowledgedPresent: logCheck.unacknowledgedPresent,
  emailsHeldTwice: logCheck.emailsHeldTwice,
  readModelMismatches: mismatches.length,
  unexpected5xx: ledger.unexpected5xx.length,
  lambdaLogLines,
  statuses: Object.fromEntries([...ledger.statuses.entries()].sort(([a], [b]) => a - b)),
};
console.log(JSON.stringify(result, null, 2));
const lastActual = await comparable(result.activeReadModelVersion);
const differences = mismatches.slice(0, 5).map((name) => `read model differs at ${name}: replay ${JSON.stringify(expected.get(name))}, active ${JSON.stringify(lastActual.get(name))}`);
for (const line of [...logCheck.details, ...differences, ...ledger.unexpected5xx.slice(0, 20)]) log(line);
// A mismatch is explained best by what the projector warned about.
if (differences.length > 0)
  for (const line of projector.logs.filter((l) => l['level'] === 'warn' || l['level'] === 'error').slice(-15)) log(`projector: ${JSON.stringify(line).slice(0, 400)}`);
const resultsDir = path.resolve(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(path.join(resultsDir, quick ? 'soak-quick.json' : 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);

await projector.kill('SIGTERM');
await redisClient.quit();
await replay.close();
await eventStore.close();
await issuer.close();
await emulator.stop();
await redis.stop('SIGTERM');
bundle.remove();
dir.remove();
const failed = result.eventsLost + result.eventsDuplicated + result.emailsHeldTwice + result.readModelMismatches + result.unexpected5xx > 0;
log(failed ? 'FAILED' : 'passed');
process.exit(failed ? 1 : 0);
