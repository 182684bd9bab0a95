/**
 * The deployable artefacts as AWS would run them, for the template test, the Node 24 check and
 * `npm run bench:lambda`: `serverless package` of a stage into a folder of our own, each function
 * zip extracted the way Lambda extracts it, and a Node 24 binary from the npm registry.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface PackagedStage {
  readonly dir: string;
  /** The compiled CloudFormation template (cloudformation-template-update-stack.json). */
  readonly template: CloudFormationTemplate;
  /** Function name → its zip. */
  readonly zips: ReadonlyMap<string, string>;
}

export interface CloudFormationResource {
  readonly Type: string;
  readonly Condition?: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CloudFormationTemplate {
  readonly Resources: Readonly<Record<string, CloudFormationResource>>;
}

/**
 * `serverless package --stage <stage>` into `dir` with a clean environment: no AWS credentials,
 * none of the shell's Chronicle variables; its own esbuild folder, so a running `npm start` or a
 * parallel package is never disturbed.
 */
export const packageStage = async (stage: string, dir: string, params: readonly string[] = []): Promise<PackagedStage> => {
  rmSync(dir, { recursive: true, force: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    CHRONICLE_ESBUILD_DIR: path.join(dir, '.esbuild'),
  };
  await run(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules/serverless/bin/serverless.js'), 'package', '--stage', stage, '--package', dir, ...params.map((p) => `--param=${p}`)],
    { cwd: REPO_ROOT, env, maxBuffer: 16 * 1024 * 1024 },
  );
  rmSync(path.join(dir, '.esbuild'), { recursive: true, force: true });
  return readPackage(dir);
};

/** A folder `serverless package --package <dir>` wrote: its compiled template and its function zips. */
export const readPackage = (dir: string): PackagedStage => {
  const template = JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as CloudFormationTemplate;
  const zips = new Map(
    readdirSync(dir)
      .filter((file) => file.endsWith('.zip'))
      .map((file) => [file.slice(0, -'.zip'.length), path.join(dir, file)] as const),
  );
  return { dir, template, zips };
};

/** Each function's zip stays under 1 MB (1,000,000 bytes): asserted by test/deploy, reported by `npm run bench:lambda`. */
export const ZIP_BUDGET_BYTES = 1_000_000;

export const zipBytes = (zip: string): number => statSync(zip).size;

/**
 * Extracts a function zip as Lambda does (into /var/task there). The nodejs24.x runtime provides
 * the AWS SDK v3; a link to ours stands in for it.
 */
export const extractFunction = async (zip: string, into: string): Promise<string> => {
  rmSync(into, { recursive: true, force: true });
  mkdirSync(path.join(into, 'node_modules'), { recursive: true });
  await run('unzip', ['-q', '-o', zip, '-d', into]);
  symlinkSync(path.join(REPO_ROOT, 'node_modules/@aws-sdk'), path.join(into, 'node_modules/@aws-sdk'), 'dir');
  return into;
};

let node24: Promise<string> | null = null;

/** The path of a Node 24 binary (npm's `node@24` package, fetched once by npx). */
export const node24Binary = (): Promise<string> =>
  (node24 ??= run('npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath'], { cwd: REPO_ROOT, maxBuffer: 1024 * 1024 }).then(({ stdout }) => {
    const binary = stdout.trim().split('\n').at(-1) ?? '';
    if (!binary.startsWith('/')) throw new Error(`npx -p node@24 gave no node binary: ${stdout}`);
    return binary;
  }));

/**
 * The AWS::Lambda::Function resource of a function named in serverless.yml, by the logical id
 * serverless gives it (its naming.getLambdaLogicalId: `-` → `Dash`, `_` → `Underscore`, first
 * letter upper case, then `LambdaFunction`).
 */
export const functionResource = (template: CloudFormationTemplate, name: string): CloudFormationResource => {
  const normalized = name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  const id = `${normalized.charAt(0).toUpperCase()}${normalized.slice(1)}LambdaFunction`;
  const resource = template.Resources[id];
  if (resource?.Type !== 'AWS::Lambda::Function') throw new Error(`the template has no function ${name} (${id})`);
  return resource;
};

/** The handler module of a function, from serverless.yml's `handler: handlers/x.handler`. */
export const handlerModule = (functionName: string, template: CloudFormationTemplate): string => {
  const handler = String(functionResource(template, functionName).Properties?.['Handler'] ?? '');
  return `${handler.slice(0, handler.lastIndexOf('.'))}.mjs`;
};
