/**
 * `npm run deploy -- --stage <stage> [--region <region>] [--image-tag <tag>] [--param name=value]…`
 *
 * Builds the projector image for arm64, pushes it to the stage's ECR repository, deploys the stack
 * (`serverless deploy`) with that image, and waits until the projector service is stable. On the
 * first deploy of a stage the repository does not exist yet: the stack is deployed once with no
 * projector task running, then the image is pushed and the stack deployed again.
 *
 * --image-tag <tag>  deploy an image already in the repository (a rollback): nothing is built.
 * --param name=value passed on to serverless (serverless.yml `params`), as often as needed.
 *
 * Needs: the AWS CLI v2 with credentials for the target account, Docker with buildx, a clean git
 * work tree (the image tag is the commit; tags are immutable). README "Deploying" has the rest.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { REPO_ROOT } from '#scripts/lambdaBundles';

const fail = (message: string): never => {
  console.error(`[deploy] ${message}`);
  process.exit(1);
};
const log = (message: string): void => console.log(`[deploy] ${message}`);

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index < 0 ? undefined : args[index + 1];
};
const params = args.flatMap((arg, i) => (arg === '--param' && args[i + 1] !== undefined ? [args[i + 1] as string] : []));

const stage = option('--stage') ?? fail('--stage <stage> is required (for example --stage prod)');
if (stage === 'local') fail('the local stage is for npm start; it deploys nothing');
const region = option('--region') ?? process.env['AWS_REGION'] ?? 'eu-west-1';
const stackName = `chronicle-${stage}`;

/** Runs a command, its output on ours; fails the deploy when it fails. */
const step = (command: string, commandArgs: readonly string[], input?: string): void => {
  const result = spawnSync(command, commandArgs, { cwd: REPO_ROOT, stdio: [input === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'], input, env: { ...process.env, AWS_REGION: region } });
  if (result.status !== 0) fail(`${command} ${commandArgs.join(' ')} failed (${result.status ?? result.signal})`);
};
/** Runs a command and answers its stdout, or null when it fails. */
const read = (command: string, commandArgs: readonly string[]): string | null => {
  try {
    return execFileSync(command, commandArgs, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AWS_REGION: region } }).trim();
  } catch {
    return null;
  }
};
const aws = (...awsArgs: string[]): string | null => read('aws', [...awsArgs, '--region', region, '--output', 'text']);
const serverless = (extra: readonly string[]): void =>
  step(process.execPath, ['node_modules/serverless/bin/serverless.js', 'deploy', '--stage', stage, '--region', region, ...[...params, ...extra].map((p) => `--param=${p}`)]);

// 1. prerequisites
if (read('aws', ['--version']) === null) fail('the AWS CLI v2 is not installed (https://docs.aws.amazon.com/cli/)');
const account = aws('sts', 'get-caller-identity', '--query', 'Account') ?? fail('no AWS credentials (aws sts get-caller-identity failed)');
log(`account ${account}, region ${region}, stack ${stackName}`);

// 2. the image tag: the commit, or the one asked for (rollback)
let imageTag = option('--image-tag');
const building = imageTag === undefined;
if (building) {
  if (read('docker', ['buildx', 'version']) === null) fail('docker with buildx is required to build the projector image');
  if ((read('git', ['status', '--porcelain']) ?? 'unknown') !== '') fail('the git work tree is not clean: commit first (the image tag is the commit, and tags are immutable)');
  imageTag = read('git', ['rev-parse', '--short=12', 'HEAD']) ?? fail('not a git checkout');
}
const tag = imageTag as string;

// 3. first deploy of the stage: create the stack (and its ECR repository) with no projector task
const repositoryUri = (): string | null => {
  const uri = aws('cloudformation', 'describe-stacks', '--stack-name', stackName, '--query', "Stacks[0].Outputs[?OutputKey=='ProjectorRepositoryUri'].OutputValue");
  return uri === null || uri === '' || uri === 'None' ? null : uri;
};
let repository = repositoryUri();
if (repository === null) {
  if (!building) fail(`stack ${stackName} does not exist: a first deploy builds its image (leave out --image-tag)`);
  log('first deploy of this stage: creating the stack with the projector scaled to zero');
  serverless([`projectorImageTag=${tag}`, 'projectorDesiredCount=0']);
  repository = repositoryUri() ?? fail('the stack has no ProjectorRepositoryUri output');
}

// 4. build and push the image (arm64, as the Fargate task runs it), unless that tag is there already
const pushed = aws('ecr', 'describe-images', '--repository-name', repository.split('/').slice(1).join('/'), '--image-ids', `imageTag=${tag}`, '--query', 'imageDetails[0].imageTags') !== null;
if (building && !pushed) {
  const registry = repository.split('/')[0] as string;
  const password = aws('ecr', 'get-login-password') ?? fail('aws ecr get-login-password failed');
  step('docker', ['login', '--username', 'AWS', '--password-stdin', registry], password);
  step('docker', ['buildx', 'build', '--platform', 'linux/arm64', '--provenance=false', '--tag', `${repository}:${tag}`, '--push', '.']);
} else if (!pushed) {
  fail(`${repository}:${tag} is not in the repository`);
} else {
  log(`${repository}:${tag} is in the repository already`);
}

// 5. deploy the stack with that image; the ECS deployment circuit breaker rolls back a bad one
serverless([`projectorImageTag=${tag}`]);
log('waiting for the projector service to be stable');
step('aws', ['ecs', 'wait', 'services-stable', '--cluster', stackName, '--services', `${stackName}-projector`, '--region', region]);
const api = aws('cloudformation', 'describe-stacks', '--stack-name', stackName, '--query', "Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue");
log(`deployed ${tag}: API ${api ?? '(see the stack outputs)'}`);
