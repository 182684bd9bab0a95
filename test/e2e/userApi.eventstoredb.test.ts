import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeEventStoreDBClient, createEventStoreDBClient, createEventStoreDBEventStore, snapshotStreamId } from '#adapters/eventstoredb/index';
import { USER_STREAM_PREFIX } from '#domain/userValues';
import type { EventStore } from '#ports/eventStore';
import { DEV_AUDIENCE, DEV_ISSUER, localHttpSecrets, mintDevToken, serveDevJwks } from '#scripts/devIssuer';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { startServiceStack, type ServiceStack } from '#test/support/serviceStack';
import { tempDir } from '#test/support/tempDir';
import { filesHolding, userApiScenarios } from './userApiScenarios.ts';

/**
 * The same flow with the service configured for EventStoreDB: the Lambdas and the projector
 * talk to it through the real @eventstore/db-client over gRPC — to a real server when
 * EVENTSTORE_CONNECTION_STRING is set (`npm run test:esdb`), else to the emulator in this
 * process (CI). Read models stay on the embedded SQLite default.
 */
describe('user API end to end, on EventStoreDB', () => {
  let emulator: EsdbEmulator | undefined;
  let stack: ServiceStack | undefined;
  let connectionString = '';
  /** Where this run's events begin: a real server also holds earlier runs'. */
  let runStart = 0n;

  const withEventStore = async <T>(use: (store: EventStore) => Promise<T>): Promise<T> => {
    const client = createEventStoreDBClient(connectionString);
    try {
      return await use(createEventStoreDBEventStore(client));
    } finally {
      await closeEventStoreDBClient(client);
    }
  };

  beforeAll(async () => {
    const realServer = process.env['EVENTSTORE_CONNECTION_STRING']?.trim();
    if (!realServer) emulator = await startEsdbEmulator();
    connectionString = realServer || (emulator?.connectionString as string);
    runStart = await withEventStore(async (store) => ((await store.headPosition()) ?? -1n) + 1n);
    // A group of this run's own, so a real server's earlier runs do not share its checkpoint.
    stack = await startServiceStack({
      // A snapshot every 2 events, so the scenarios' users are snapshotted (and the erasure check covers them).
      env: { EVENTSTORE_CONNECTION_STRING: connectionString, PROJECTOR_GROUP: `chronicle-e2e-${Date.now()}`, CHRONICLE_DEV_ISSUER: 'true', SNAPSHOT_EVERY: '2' },
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await emulator?.stop();
  }, 60_000);

  userApiScenarios(() => {
    if (stack === undefined) throw new Error('the stack did not start');
    return stack;
  }, { eventStore: 'eventstoredb', readModels: 'sqlite' }, {
    // The emulator's whole log (after a scavenge, as production runs one) and every file under DATA_DIR.
    placesHolding: async (needle) => {
      if (stack === undefined) return ['no stack'];
      const inLog = emulator === undefined ? [] : (emulator.scavenge(), emulator.holdsBytes(Buffer.from(needle, 'utf8')) ? ['eventstoredb'] : []);
      return [...inLog, ...filesHolding(stack.dataDir, needle)];
    },
  });

  it('kept snapshots of the scenarios’ users, sealed, in snapshot streams beside the events', async () => {
    if (stack === undefined) throw new Error('the stack did not start');
    const found = await withEventStore(async (store) => {
      // The users this run wrote to, and the newest snapshot of each (none for a stream too short for one).
      const userStreams = new Set((await store.readAll({ fromPosition: runStart, streamPrefixes: [USER_STREAM_PREFIX] })).map((event) => event.streamId));
      expect(userStreams.size).toBeGreaterThan(0);
      const newest = await Promise.all([...userStreams].map((streamId) => store.readStream(snapshotStreamId(streamId), { direction: 'backwards', maxCount: 1 })));
      return newest.flat();
    });
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((event) => event.type === 'Snapshot' && String(event.data['payload']).startsWith('A256GCM.'))).toBe(true);
  });

  it('logs its requests, and no email address', () => {
    const output = stack?.output() ?? '';
    expect(output).toContain('"route":"POST /users"');
    expect(output).not.toMatch(/[^\s@"]+@example\.com/i);
  });
});

const root = path.resolve(import.meta.dirname, '..', '..');

/** serverless.yml's esbuild banner: gRPC and protobuf call require() and read __dirname inside the ESM bundle. */
const lambdaBanner = (): string => {
  const banner = /^\s+js:\s*"(.+)"\s*$/m.exec(readFileSync(path.join(root, 'serverless.yml'), 'utf8'))?.[1];
  if (banner === undefined) throw new Error('serverless.yml has no esbuild banner');
  return banner;
};

/** Bundles a handler the way serverless.yml packages it: better-sqlite3 is left out of the package. */
const bundleHandler = async (name: string, outFile: string) => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [`handlers/${name}.ts`],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['better-sqlite3', '@aws-sdk/*'],
    banner: { js: lambdaBanner() },
    metafile: true,
    logLevel: 'error',
  });
  // The inputs that made it into the bundle (tree shaking drops the rest to zero bytes).
  return Object.values(result.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs).flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? [input] : [])),
  );
};

describe('a deployed Lambda, configured for EventStoreDB', () => {
  let emulator: EsdbEmulator | undefined;
  const dir = tempDir('chronicle-lambda-');

  beforeAll(async () => {
    if (!process.env['EVENTSTORE_CONNECTION_STRING']?.trim()) emulator = await startEsdbEmulator();
  });

  afterAll(async () => {
    await emulator?.stop();
    dir.remove();
  });

  it('starts and answers from its bundle alone, without the embedded SQLite driver', async () => {
    // Outside the checkout, so no node_modules can be found from the bundle: as in the deployment package.
    const bundle = path.join(dir.path, 'getUserEvents.mjs');
    await bundleHandler('getUserEvents', bundle);
    const invoke = path.join(dir.path, 'invoke.mjs');
    const issuer = await serveDevJwks(dir.path);
    const token = await mintDevToken(dir.path, { subject: 'deployed-admin', admin: true });
    const headers = { authorization: `Bearer ${token}` };
    const event = { version: '2.0', routeKey: 'GET /users/{id}/events', rawPath: '/', rawQueryString: '', headers, isBase64Encoded: false };
    writeFileSync(
      invoke,
      `const { handler } = await import(${JSON.stringify(bundle)});
       const response = await handler({ ...${JSON.stringify(event)}, requestContext: { requestId: 'r1', http: { method: 'GET', path: '/' } }, pathParameters: { id: process.env.USER_ID } }, { awsRequestId: 'a1' });
       process.stdout.write(JSON.stringify(response) + '\\n');
       process.exit(0);`,
    );
    const run = promisify(execFile)(process.execPath, [invoke], {
      cwd: dir.path,
      timeout: 60_000,
      env: {
        PATH: process.env['PATH'] ?? '',
        EVENTSTORE_CONNECTION_STRING: process.env['EVENTSTORE_CONNECTION_STRING']?.trim() || (emulator?.connectionString ?? ''),
        USER_ID: randomUUID(),
        DATA_DIR: dir.path,
        AUTH_ISSUER: DEV_ISSUER,
        AUTH_AUDIENCE: DEV_AUDIENCE,
        AUTH_JWKS_URL: issuer.jwksUrl,
        ...localHttpSecrets(dir.path),
      },
    });
    const { stdout } = await run.finally(() => issuer.close());
    const response = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { statusCode: number; body: string };
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'USER_NOT_FOUND' } });
  }, 120_000);

  it('bundles only the clients its handler needs', async () => {
    // GET /users/{id} answers ?asOf= from the event store too, so it carries both clients; a
    // query that only reads the read models (the list) carries no gRPC client.
    const queryInputs = await bundleHandler('listUsers', path.join(dir.path, 'listUsers.mjs'));
    const commandInputs = await bundleHandler('suspendUser', path.join(dir.path, 'suspendUser.mjs'));
    expect(queryInputs.some((input) => input.includes('node_modules/@eventstore/'))).toBe(false);
    expect(commandInputs.some((input) => input.includes('node_modules/@redis/'))).toBe(false);
    expect(commandInputs.some((input) => input.includes('node_modules/@eventstore/'))).toBe(true);
  }, 120_000);
});
