
/**
 * `npm run bench:lambda` — each function as deployed: its zip size, and its module init time
 * (the import of its bundle in a fresh Node 24 process, source maps on as deployed, the production
 * configuration, median of several runs). Writes bench/results/lambda.json.
 *
 *   npm run bench:lambda                 package the prod stage, then measure
 *   npm run bench:lambda -- --runs 9     more runs per function (default 7)
 *   npm run bench:lambda -- --from DIR   measure an existing `serverless package --package DIR`
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, ZIP_BUDGET_BYTES, extractFunction, functionResource, handlerModule, node24Binary, packageStage, readPackage, zipBytes, type CloudFormationTemplate } from '#scripts/lambdaBundles';
import { argValue } from './support/args.ts';
import { median } from './support/measure.ts';

const run = promisify(execFile);

const INIT_BUDGET_MS = 250;


/**
 * What a deployed function has once its secrets are resolved: the literal settings of its
 * environment in the template (its own CHRONICLE_STORES among them), and stand-ins for what
 * CloudFormation or Secrets Manager fill in. Nothing listens: init connects to nothing.
 */
const RESOLVED = {
  AUTH_ISSUER: 'https://issuer.bench.example',
  AUTH_AUDIENCE: 'chronicle',
  AUTH_JWKS_URL: 'https://issuer.bench.example/.well-known/jwks.json',
  CONSISTENCY_TOKEN_KEY: 'bench-consistency-token-key-0123456789abcdef',
  EMAIL_RESERVATION_KEY: 'bench-email-reservation-key-0123456789abcdef',
  DATA_KEY_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000',
};
const STORE_SETTINGS: Record<string, Record<string, string>> = {
  eventstore: { EVENTSTORE_CONNECTION_STRING: 'esdb+discover://127.0.0.1:2113' },
  readmodels: { REDIS_URL: 'rediss://:token@127.0.0.1:6379' },
};

const productionEnv = (name: string, template: CloudFormationTemplate): Record<string, string> => {
  const variables = ((functionResource(template, name).Properties?.['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
  const literal = Object.fromEntries(Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string' && !e[0].endsWith('_SECRET_ARN') && !e[0].startsWith('REDIS_')));
  const stores = (literal['CHRONICLE_STORES'] ?? 'eventstore,readmodels').split(',');
  return { ...literal, ...RESOLVED, ...Object.assign({}, ...stores.map((store) => STORE_SETTINGS[store] ?? {})) };
};

const IMPORT_AND_TIME = 'const t = performance.now(); await import(process.env.BUNDLE); process.stdout.write(String(performance.now() - t));';

const measureInit = async (node: string, taskDir: string, bundle: string, env: Record<string, string>): Promise<number> => {
  const { stdout } = await run(node, ['--enable-source-maps', '--input-type=module', '-e', IMPORT_AND_TIME], {
    cwd: taskDir,
    env: { PATH: process.env['PATH'], ...env, BUNDLE: path.join(taskDir, bundle) },
  });
  return Number(stdout);
};

const runs = Number(argValue('--runs') ?? 7);
// The machine is shared: the load before and after says how far the figures can be trusted.
const loadAtStart = os.loadavg()[0]?.toFixed(1);
const from = argValue('--from');
const workDir = path.join(REPO_ROOT, '.tmp', `lambda-bench-${process.pid}`);
mkdirSync(workDir, { recursive: true });

try {
  const packaged = from ? readPackage(from) : await packageStage('prod', path.join(workDir, 'package'));
  const node = await node24Binary();
  const { stdout: nodeVersion } = await run(node, ['--version']);

  const tasks = await Promise.all(
    [...packaged.zips]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(async ([name, zip]) => ({
        name,
        zip,
        taskDir: await extractFunction(zip, path.join(workDir, 'task', name)),
        bundle: handlerModule(name, packaged.template),
        env: productionEnv(name, packaged.template),
        times: [] as number[],
      })),
  );
  // Round-robin over the functions, so a burst of load from elsewhere on the shared machine lands
  // on all of them alike instead of on whichever function was being measured.
  for (let i = 0; i < runs; i += 1) for (const task of tasks) task.times.push(await measureInit(node, task.taskDir, task.bundle, task.env));
  const functions = tasks.map(({ name, zip, times }) => {
    const result = {
      name,
      zipBytes: zipBytes(zip),
      initMsMedian: Math.round(median(times) * 10) / 10,
      initMsMin: Math.round(Math.min(...times) * 10) / 10,
      initMsMax: Math.round(Math.max(...times) * 10) / 10,
    };
    console.log(`${name.padEnd(16)} zip ${(result.zipBytes / 1024).toFixed(0).padStart(5)} KiB   init median ${result.initMsMedian} ms (${result.initMsMin}–${result.initMsMax})`);
    return result;
  });

  const results = {
    measuredAt: new Date().toISOString(),
    node: nodeVersion.trim(),
    machine: `${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, load (1 min) ${loadAtStart} at the start, ${os.loadavg()[0]?.toFixed(1)} at the end`,
    runsPerFunction: runs,
    method:
      'fresh `node --enable-source-maps` process per run, the functions taken round-robin; time of `await import(bundle)` from the extracted zip, the function\'s own deployed environment with its secrets resolved to stand-ins (no Secrets Manager call), nothing listening',
    budget: { zipBytes: ZIP_BUDGET_BYTES, initMsMedian: INIT_BUDGET_MS },
    withinBudget: functions.every((f) => f.zipBytes < ZIP_BUDGET_BYTES && f.initMsMedian < INIT_BUDGET_MS),
    functions,
  };
  mkdirSync(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench/results/lambda.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`bench/results/lambda.json written; within budget: ${results.withinBudget}`);
  process.exitCode = results.withinBudget ? 0 : 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
