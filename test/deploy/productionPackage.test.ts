import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKmsKeyWrapper, type KmsClientLike } from '#adapters/kms/kmsKeyWrapper';
import { REPO_ROOT, ZIP_BUDGET_BYTES, extractFunction, functionResource, handlerModule, node24Binary, packageStage, zipBytes, type PackagedStage } from '#scripts/lambdaBundles';
import { projectorBundleOptions } from '#scripts/projectorBundle';
import { startEsdbEmulator, type EsdbEmulator } from '#test/support/esdb-emulator/index';
import { freePort } from '#test/support/ports';
import { uniqueReadModelVersion } from '#test/support/readModelDump';
import { requireRedis, sharedRedisUrl } from '#test/support/redis';

const run = promisify(execFile);
const require = (await import('node:module')).createRequire(import.meta.url);
const { productionParamProblems, functionAccess } = require('../../deploy/serverless-chronicle.cjs') as {
  productionParamProblems: (chronicle: Record<string, unknown>) => string[];
  functionAccess: (name: string, access: unknown, kinds: Record<string, unknown>) => { environment: Record<string, unknown>; statements: unknown[] };
};

type Resource = PackagedStage['template']['Resources'][string];
type Json = Record<string, unknown>;

const workDir = path.join(REPO_ROOT, '.tmp', `production-package-${process.pid}`);
let packaged: PackagedStage;

const resourcesOf = (type: string): Array<[string, Resource]> => Object.entries(packaged.template.Resources).filter(([, r]) => r.Type === type);
const props = (resource: Resource | undefined): Json => (resource?.Properties ?? {}) as Json;
const functions = (): Array<[string, Resource]> => resourcesOf('AWS::Lambda::Function');
const resource = (id: string): Resource => {
  const found = packaged.template.Resources[id];
  if (found === undefined) throw new Error(`no resource ${id}`);
  return found;
};
const container = (): Json => (props(resource('ProjectorTaskDefinition'))['ContainerDefinitions'] as Json[])[0] ?? {};
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every IAM policy statement in the template: inline role policies and the functions' role. */
const statements = (): Array<{ role: string; statement: Json }> =>
  resourcesOf('AWS::IAM::Role').flatMap(([role, r]) =>
    ((props(r)['Policies'] as Json[] | undefined) ?? []).flatMap((policy) =>
      ((policy['PolicyDocument'] as Json)['Statement'] as Json[]).map((statement) => ({ role, statement })),
    ),
  );

const allowsOn = (role: string, action: string): unknown[] =>
  statements()
    .filter((s) => s.role === role && asArray(s.statement['Action'] as string | string[]).includes(action))
    .flatMap((s) => asArray(s.statement['Resource']));

/** Values a secret would look like: credentials in a URL, a PEM, a connection string, a long random token. */
const SECRET_LOOKING_VALUE = /(:\/\/[^/\s]*:[^@/\s]+@)|-----BEGIN|^(esdb|kurrentdb|kdb|redis|rediss)(\+discover)?:\/\/|^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)[A-Za-z0-9+/=_-]{32,}$/;
/** Names of settings that must arrive as *_SECRET_ARN, never as values. */
const SENSITIVE_NAMES = ['EVENTSTORE_CONNECTION_STRING', 'EVENTSTORE_CA_CERT', 'REDIS_URL', 'REDIS_AUTH_TOKEN', 'EMAIL_RESERVATION_KEY', 'CONSISTENCY_TOKEN_KEY'];

/** What each function may reach (serverless.yml `access:`), as the template must show it. */
type Secret = 'http' | 'eventStore' | 'redis';
const ACCESS: Record<string, { readonly stores: string; readonly secrets: readonly Secret[]; readonly kms: readonly string[] }> = {
  registerUser: { stores: 'eventstore', secrets: ['http', 'eventStore'], kms: ['kms:GenerateDataKey', 'kms:Decrypt'] },
  changeEmail: { stores: 'eventstore', secrets: ['http', 'eventStore'], kms: ['kms:GenerateDataKey', 'kms:Decrypt'] },
  verifyEmail: { stores: 'eventstore', secrets: ['http', 'eventStore'], kms: ['kms:GenerateDataKey', 'kms:Decrypt'] },
  suspendUser: { stores: 'eventstore', secrets: ['http', 'eventStore'], kms: ['kms:GenerateDataKey', 'kms:Decrypt'] },
  reactivateUser: { stores: 'eventstore', secrets: ['http', 'eventStore'], kms: ['kms:Decrypt'] },
  eraseUser: { stores: 'eventstore', secrets: ['http', 'eventStore'], kms: ['kms:Decrypt'] },
  getUser: { stores: 'readmodels,eventstore', secrets: ['http', 'redis', 'eventStore'], kms: ['kms:Decrypt'] },
  listUsers: { stores: 'readmodels', secrets: ['http', 'redis'], kms: [] },
  getUserEvents: { stores: 'eventstore', secrets: ['http', 'eventStore'], kms: ['kms:Decrypt'] },
  exportUser: { stores: 'eventstore', secrets: ['http', 'eventStore'], kms: ['kms:Decrypt'] },
  health: { stores: 'eventstore,readmodels', secrets: ['http', 'eventStore', 'redis'], kms: [] },
  routeNotFound: { stores: 'none', secrets: ['http'], kms: [] },
};
const SECRET_RESOURCES: Record<Secret, unknown[]> = {
  http: [{ Ref: 'EmailReservationKeySecret' }, { Ref: 'ConsistencyTokenKeySecret' }],
  eventStore: [
    { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:chronicle/prod/eventstore-connection-string-??????' },
    // No CA certificate secret on the default prod stage.
    { 'Fn::If': ['HasEventStoreCaCert', { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:-??????' }, { Ref: 'AWS::NoValue' }] },
  ],
  redis: [{ 'Fn::If': ['CreateRedis', { Ref: 'RedisAuthTokenSecret' }, { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:-??????' }] }],
};
const SECRET_VARIABLES: Record<Secret, string[]> = {
  http: ['EMAIL_RESERVATION_KEY_SECRET_ARN', 'CONSISTENCY_TOKEN_KEY_SECRET_ARN'],
  eventStore: ['EVENTSTORE_CONNECTION_STRING_SECRET_ARN', 'EVENTSTORE_CA_CERT_SECRET_ARN'],
  redis: ['REDIS_AUTH_TOKEN_SECRET_ARN', 'REDIS_URL_SECRET_ARN'],
};

/** The logical id of a function's role. */
const roleOf = (fn: Resource): string => ((props(fn)['Role'] as Json)['Fn::GetAtt'] as string[])[0] ?? '';

const literalStrings = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.flatMap(literalStrings) : value !== null && typeof value === 'object' ? Object.values(value).flatMap(literalStrings) : [];

beforeAll(async () => {
  packaged = await packageStage('prod', path.join(workDir, 'package'));
}, 180_000);
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('the compiled production template (serverless package --stage prod, no credentials, no variables)', () => {
  describe('the functions', () => {
    it('run on nodejs24.x, arm64, in the private subnets behind the Lambda security group', () => {
      expect(functions().length).toBe(12);
      for (const [id, fn] of functions()) {
        const p = props(fn);
        expect([id, p['Runtime'], p['Architectures']]).toEqual([id, 'nodejs24.x', ['arm64']]);
        const vpc = p['VpcConfig'] as Json;
        expect(vpc['SecurityGroupIds']).toEqual([{ Ref: 'LambdaSecurityGroup' }]);
        expect(JSON.stringify(vpc['SubnetIds'])).toContain('PrivateSubnetA');
        expect(JSON.stringify(vpc['SubnetIds'])).toContain('PrivateSubnetB');
      }
    });

    it('carry no secret in their environment: sensitive settings only as *_SECRET_ARN', () => {
      const environments: Array<[string, Json]> = [
        ...functions().map(([id, fn]) => [id, ((props(fn)['Environment'] as Json)['Variables'] ?? {}) as Json] as [string, Json]),
        ['ProjectorTaskDefinition', Object.fromEntries((container()['Environment'] as Array<{ Name: string; Value: unknown }>).map((e) => [e.Name, e.Value]))],
      ];
      for (const [id, variables] of environments) {
        for (const name of SENSITIVE_NAMES) expect([id, name, variables[name]]).toEqual([id, name, undefined]);
        for (const [name, value] of Object.entries(variables))
          for (const text of literalStrings(value)) expect([id, name, SECRET_LOOKING_VALUE.test(text)]).toEqual([id, name, false]);
        expect([id, variables['CHRONICLE_REQUIRE_PRODUCTION_STORES']]).toEqual([id, 'true']);
        expect(variables['DATA_KEY_KMS_KEY_ARN']).toEqual({ 'Fn::GetAtt': ['DataKeyWrappingKey', 'Arn'] });
      }
      expect(container()['Environment']).toContainEqual({ Name: 'EVENTSTORE_CONNECTION_STRING_SECRET_ARN', Value: 'chronicle/prod/eventstore-connection-string' });
    });

    it('get the issuer and audience of the JWT authorizer', () => {
      for (const [id, fn] of functions()) {
        const variables = (props(fn)['Environment'] as Json)['Variables'] as Json;
        const jwtConfiguration = props(resource('HttpApiAuthorizerJwt'))['JwtConfiguration'] as { Issuer: unknown; Audience: unknown[] };
        expect([id, variables['AUTH_ISSUER']]).toEqual([id, jwtConfiguration.Issuer]);
        expect([id, variables['AUTH_AUDIENCE']]).toEqual([id, jwtConfiguration.Audience[0]]);
      }
      const jwt = props(resource('HttpApiAuthorizerJwt'));
      expect(jwt['AuthorizerType']).toBe('JWT');
      expect(JSON.stringify(jwt['JwtConfiguration'])).toContain('cognito-idp');
    });

    it('sit behind the JWT authorizer on every route except GET /health and the catch-all', () => {
      const routes = resourcesOf('AWS::ApiGatewayV2::Route').map(([, r]) => props(r));
      expect(routes.length).toBe(12);
      for (const route of routes) {
        const open = route['RouteKey'] === 'GET /health' || route['RouteKey'] === '$default';
        expect([route['RouteKey'], route['AuthorizationType'] ?? 'NONE']).toEqual([route['RouteKey'], open ? 'NONE' : 'JWT']);
      }
    });

    it('are zipped under 1 MB each', () => {
      for (const [name, zip] of packaged.zips) expect([name, zipBytes(zip) < ZIP_BUDGET_BYTES]).toEqual([name, true]);
    });
  });

  describe('least privilege', () => {
    it('grants no wildcard action, and a wildcard resource only where AWS has no other form', () => {
      expect(statements().length).toBeGreaterThan(0);
      for (const { role, statement } of statements()) {
        for (const action of asArray(statement['Action'] as string | string[])) expect([role, action]).not.toEqual([role, expect.stringMatching(/^\*$|:\*$/)]);
        if (asArray(statement['Resource']).includes('*'))
          expect([role, statement['Action']]).toEqual([role, expect.toBeOneOf([['ecr:GetAuthorizationToken'], ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets']])]);
      }
    });

    it('gives every function a role of its own', () => {
      expect(packaged.template.Resources['IamRoleLambdaExecution']).toBeUndefined();
      expect(Object.keys(ACCESS).length).toBe(functions().length);
      const roles = functions().map(([, fn]) => roleOf(fn));
      expect(new Set(roles).size).toBe(functions().length);
      for (const [id, fn] of functions()) {
        const role = props(resource(roleOf(fn)));
        // No managed policy (AWSLambdaVPCAccessExecutionRole would allow writing any log group):
        // the VPC's network-interface actions inline, scoped to this account and region.
        expect([id, role['ManagedPolicyArns']]).toEqual([id, undefined]);
        expect([id, JSON.stringify(allowsOn(roleOf(fn), 'ec2:CreateNetworkInterface'))]).toEqual([id, JSON.stringify([{ 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:*/*' }])]);
        // Its logs: its own log group, nothing else.
        const logs = JSON.stringify(allowsOn(roleOf(fn), 'logs:PutLogEvents'));
        expect([id, logs]).toEqual([id, JSON.stringify([{ 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${String(props(fn)['FunctionName'])}:*` }])]);
      }
    });

    describe.each(Object.entries(ACCESS))('%s', (name, expected) => {
      const fn = (): Resource => functionResource(packaged.template, name);
      const variables = (): Json => (props(fn())['Environment'] as Json)['Variables'] as Json;

      it(`reads only the secrets it needs (${expected.secrets.join(', ')})`, () => {
        const granted = allowsOn(roleOf(fn()), 'secretsmanager:GetSecretValue').map((r) => JSON.stringify(r));
        const wanted = expected.secrets.flatMap((secret) => SECRET_RESOURCES[secret]);
        expect(granted.sort()).toEqual(wanted.map((r) => JSON.stringify(r)).sort());
        // …and is told where only those are.
        const named = Object.keys(variables()).filter((v) => v.endsWith('_SECRET_ARN'));
        expect(named.sort()).toEqual(expected.secrets.flatMap((secret) => SECRET_VARIABLES[secret]).sort());
      });

      it(`uses the data-key wrapping key for ${expected.kms.length === 0 ? 'nothing' : expected.kms.join(', ')}`, () => {
        const kms = statements()
          .filter((s) => s.role === roleOf(fn()))
          .flatMap((s) => asArray(s.statement['Action'] as string | string[]).filter((a) => a.startsWith('kms:')).map((action) => [action, s.statement['Resource']]));
        expect(kms).toEqual(expected.kms.map((action) => [action, [{ 'Fn::GetAtt': ['DataKeyWrappingKey', 'Arn'] }]]));
      });

      it(`declares the stores it uses (${expected.stores})`, () => {
        expect(variables()['CHRONICLE_STORES']).toBe(expected.stores);
      });
    });

    it('grants every KMS action the key wrapper sends: a command creating a key, the projector unwrapping it', async () => {
      const sent: string[] = [];
      // KMS reduced to what the adapter needs from it: a generated key comes back in clear and as a blob that Decrypt opens.
      const client: KmsClientLike = {
        async send(command) {
          const { input } = command as { input: { CiphertextBlob?: Uint8Array } };
          sent.push(`kms:${(command as object).constructor.name.replace(/Command$/, '')}`);
          if (input.CiphertextBlob !== undefined) return { Plaintext: input.CiphertextBlob.slice(1) };
          const plaintext = new Uint8Array(32).fill(7);
          return { Plaintext: plaintext, CiphertextBlob: Buffer.concat([Buffer.from([1]), plaintext]) };
        },
      };
      const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/test';
      const wrapped = await createKmsKeyWrapper({ keyArn, client }).wrap(new Uint8Array(32), 'user-1');
      const byCommand = [...new Set(sent)];
      sent.length = 0;
      await createKmsKeyWrapper({ keyArn, client }).unwrap(wrapped, 'user-1');
      const byReader = [...new Set(sent)];
      const key = { 'Fn::GetAtt': ['DataKeyWrappingKey', 'Arn'] };
      for (const action of byCommand) expect([action, allowsOn(roleOf(functionResource(packaged.template, 'registerUser')), action)]).toEqual([action, [key]]);
      for (const action of byReader) expect([action, allowsOn('ProjectorTaskRole', action)]).toEqual([action, [key]]);
    });

    it('lets the projector unwrap data keys with exactly the wrapping key, and read its secrets', () => {
      const key = { 'Fn::GetAtt': ['DataKeyWrappingKey', 'Arn'] };
      expect(allowsOn('ProjectorTaskRole', 'kms:Decrypt')).toEqual([key]);
      for (const action of ['kms:GenerateDataKey', 'kms:Encrypt']) expect([action, allowsOn('ProjectorTaskRole', action)]).toEqual([action, []]);
      expect(JSON.stringify(allowsOn('ProjectorTaskRole', 'secretsmanager:GetSecretValue'))).toContain('secret:chronicle/prod/eventstore-connection-string-??????');
      expect(props(resource('DataKeyWrappingKey'))['EnableKeyRotation']).toBe(true);
      expect(props(resource('DataKeyWrappingKeyAlias'))['TargetKeyId']).toEqual({ Ref: 'DataKeyWrappingKey' });
    });
  });

  describe('the network', () => {
    it('has private subnets in two availability zones', () => {
      const zones = ['PrivateSubnetA', 'PrivateSubnetB'].map((id) => JSON.stringify(props(resource(id))['AvailabilityZone']));
      expect(zones).toEqual([JSON.stringify({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }), JSON.stringify({ 'Fn::Select': [1, { 'Fn::GetAZs': '' }] })]);
    });

    it('lets only the functions and the projector reach Redis (6379) and EventStoreDB (2113), and nothing else in', () => {
      const sources = [{ Ref: 'LambdaSecurityGroup' }, { Ref: 'ProjectorSecurityGroup' }];
      for (const [id, group] of resourcesOf('AWS::EC2::SecurityGroup')) {
        const ingress = (props(group)['SecurityGroupIngress'] as Json[] | undefined) ?? [];
        for (const rule of ingress) expect([id, rule['CidrIp'], rule['CidrIpv6']]).toEqual([id, undefined, undefined]);
        if (id === 'RedisSecurityGroup' || id === 'EventStoreSecurityGroup') {
          const port = id === 'RedisSecurityGroup' ? 6379 : 2113;
          expect(ingress.map((rule) => [rule['FromPort'], rule['ToPort'], rule['SourceSecurityGroupId']])).toEqual(sources.map((source) => [port, port, source]));
        } else if (id !== 'EndpointSecurityGroup') expect([id, ingress]).toEqual([id, []]);
      }
      expect(resourcesOf('AWS::EC2::SecurityGroupIngress')).toEqual([]);
    });
  });

  describe('Redis', () => {
    it('is an ElastiCache Redis 7 replication group: Multi-AZ, automatic failover, TLS, encrypted at rest, AUTH from Secrets Manager', () => {
      const group = props(resource('RedisReplicationGroup'));
      expect(group).toMatchObject({
        Engine: 'redis',
        MultiAZEnabled: true,
        AutomaticFailoverEnabled: true,
        TransitEncryptionEnabled: true,
        AtRestEncryptionEnabled: true,
        NumCacheClusters: 2,
        AuthToken: { 'Fn::Sub': '{{resolve:secretsmanager:${RedisAuthTokenSecret}:SecretString}}' },
      });
      expect(String(group['EngineVersion'])).toMatch(/^7\./);
      expect(props(resource('RedisAuthTokenSecret'))['GenerateSecretString']).toBeDefined();
    });

    it('never evicts a read-model key', () => {
      expect(props(resource('RedisParameterGroup'))).toMatchObject({ CacheParameterGroupFamily: 'redis7', Properties: { 'maxmemory-policy': 'noeviction' } });
    });
  });

  describe('the projector on ECS Fargate', () => {
    it('runs arm64, non-root, on a read-only root filesystem, with its secrets injected and the same health check as the image', () => {
      const task = props(resource('ProjectorTaskDefinition'));
      expect(task).toMatchObject({ RequiresCompatibilities: ['FARGATE'], NetworkMode: 'awsvpc', RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' } });
      const c = container();
      expect(c['ReadonlyRootFilesystem']).toBe(true);
      expect(String(c['User'])).not.toMatch(/^(0|root)(:|$)/);
      const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
      const imageCheck = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile)?.[1];
      expect((c['HealthCheck'] as Json)['Command']).toEqual(['CMD', ...(JSON.parse(imageCheck ?? '[]') as string[])]);
      expect(JSON.stringify(c['Secrets'])).toContain('REDIS_AUTH_TOKEN');
      expect((c['LogConfiguration'] as Json)['LogDriver']).toBe('awslogs');
      // One stdout line, one log event: an EMF line must reach CloudWatch Logs on its own.
      const logOptions = Object.keys((c['LogConfiguration'] as Json)['Options'] as Json);
      expect(logOptions).not.toContain('awslogs-multiline-pattern');
      expect(logOptions).not.toContain('awslogs-datetime-format');
      expect(props(resource('ProjectorLogGroup'))['RetentionInDays']).toBe(30);
    });

    it('gets more time to stop than it takes to finish its batch', () => {
      const environment = Object.fromEntries((container()['Environment'] as Array<{ Name: string; Value: unknown }>).map((e) => [e.Name, e.Value]));
      expect(Number(container()['StopTimeout']) * 1000).toBeGreaterThan(Number(environment['PROJECTOR_SHUTDOWN_TIMEOUT_MS']));
    });

    it('is a service that rolls back a deployment whose tasks never get healthy', () => {
      const service = props(resource('ProjectorService'));
      expect(service['LaunchType']).toBe('FARGATE');
      expect((service['DeploymentConfiguration'] as Json)['DeploymentCircuitBreaker']).toEqual({ Enable: true, Rollback: true });
      expect(service['DesiredCount']).toBe(2);
      expect(JSON.stringify(service['NetworkConfiguration'])).toContain('"AssignPublicIp":"DISABLED"');
    });
  });

  describe('alarms', () => {
    const alarms = (): Json[] => resourcesOf('AWS::CloudWatch::Alarm').map(([, r]) => props(r));
    const metricsOf = (alarm: Json): string[] => [
      String(alarm['MetricName'] ?? ''),
      ...((alarm['Metrics'] as Json[] | undefined) ?? []).map((m) => String(((m['MetricStat'] as Json | undefined)?.['Metric'] as Json | undefined)?.['MetricName'] ?? '')),
    ];

    it('watch the projector, the functions, the API and Redis', () => {
      const watched = alarms().flatMap(metricsOf);
      for (const metric of [
        'ProjectorLagPositions',
        'ProjectorLagSeconds',
        'ProjectorParkedEvents',
        'EMFParsingErrors',
        'EMFValidationErrors',
        'RunningTaskCount',
        'DesiredTaskCount',
        '5xx',
        'EngineCPUUtilization',
        'DatabaseMemoryUsagePercentage',
        'Evictions',
      ])
        expect(watched).toContain(metric);
      for (const [id] of functions())
        for (const metric of ['Errors', 'Throttles']) {
          const alarm = alarms().find((a) => a['MetricName'] === metric && JSON.stringify(a['Dimensions']) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id } }]));
          expect([id, metric, alarm !== undefined]).toEqual([id, metric, true]);
        }
    });

    it('all go to the alarm topic', () => {
      const topic = { 'Fn::If': ['CreateAlarmTopic', { Ref: 'AlarmTopic' }, ''] };
      for (const alarm of alarms()) expect(alarm['AlarmActions']).toEqual([topic]);
    });
  });

  it('throttles the API by default and allows no cross-origin caller unless configured', () => {
    expect(props(resource('HttpApiStage'))['DefaultRouteSettings']).toEqual({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
    expect(JSON.stringify(props(resource('HttpApi'))['CorsConfiguration'])).toContain('HasCorsOrigins');
  });
});

describe('a production stage with a required param left empty', () => {
  it('refuses to package, naming the param', async () => {
    // serverless rejects an empty --param value; a blank one is empty to the check.
    const failure = await packageStage('prod', path.join(workDir, 'refused'), ['eventStoreConnectionSecret= ']).catch((error: unknown) => error);
    const { stdout, stderr } = failure as { stdout?: string; stderr?: string };
    expect(`${stdout ?? ''}${stderr ?? ''}`).toMatch(/eventStoreConnectionSecret: required on a production stage/);
  }, 60_000);

  it.each([
    [{ authIssuer: 'https://login.example.com/' }, 'authAudience: required when authIssuer is set'],
    [{ authAudience: 'chronicle' }, 'authIssuer: required when authAudience is set'],
    [{ authIssuer: 'http://login.example.com/', authAudience: 'chronicle' }, 'authIssuer: must be an https:// URL'],
  ])('refuses half an identity provider (%o)', (pairedParams, problem) => {
    expect(productionParamProblems({ productionStage: true, requiredParams: {}, pairedParams })).toEqual([problem]);
  });
});

describe('a function’s access: list', () => {
  const kinds = { eventStore: { store: 'eventstore', environment: { A_SECRET_ARN: 'a' }, statements: [{ Sid: 'A' }] }, keys: { statements: [{ Sid: 'K' }] } };

  it('becomes its environment, its stores and its statements', () => {
    expect(functionAccess('f', ['eventStore', 'keys'], kinds)).toEqual({
      environment: { A_SECRET_ARN: 'a', CHRONICLE_STORES: 'eventstore' },
      statements: [{ Sid: 'A' }, { Sid: 'K' }],
    });
    expect(functionAccess('f', ['keys'], kinds).environment).toEqual({ CHRONICLE_STORES: 'none' });
  });

  it.each([
    [undefined, 'f: declares no access'],
    [[], 'f: declares no access'],
    [['eventStore', 'redis'], 'f: unknown access "redis"'],
  ])('stops the package when it is missing or names an unknown kind (%o)', (access, message) => {
    expect(() => functionAccess('f', access, kinds)).toThrow(message);
  });
});

describe('the bundles on Node 24', () => {
  it('every function bundle loads and answers a request on Node 24', { timeout: 120_000 }, async () => {
    const node = await node24Binary();
    const tasks = await Promise.all(
      [...packaged.zips].map(async ([name, zip]) => ({
        name,
        dir: await extractFunction(zip, path.join(workDir, 'task', name)),
        module: handlerModule(name, packaged.template),
        stores: String(((props(functionResource(packaged.template, name))['Environment'] as Json)['Variables'] as Json)['CHRONICLE_STORES']),
      })),
    );
    const runner = path.join(workDir, 'invoke.mjs');
    // A request no route accepts (a path id that is not a UUID, a malformed body): every handler
    // must load, run its middleware stack and answer without touching a store; health must answer
    // 503 quickly with nothing listening. Each loads with only the stores its CHRONICLE_STORES names.
    writeFileSync(
      runner,
      `const answers = {};
const all = { ...process.env };
for (const { name, file, stores } of JSON.parse(process.env.TASKS)) {
  process.env.CHRONICLE_STORES = stores;
  if (!stores.includes('eventstore')) delete process.env.EVENTSTORE_CONNECTION_STRING; else process.env.EVENTSTORE_CONNECTION_STRING = all.EVENTSTORE_CONNECTION_STRING;
  if (!stores.includes('readmodels')) delete process.env.REDIS_URL; else process.env.REDIS_URL = all.REDIS_URL;
  const { handler } = await import(file);
  const event = { version: '2.0', routeKey: '$default', rawPath: '/users/not-a-uuid', rawQueryString: '', headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: '/users/not-a-uuid' }, requestId: 'r-' + name }, pathParameters: { id: 'not-a-uuid' }, body: '{', isBase64Encoded: false };
  const response = await handler(event, { awsRequestId: 'r-' + name, functionName: name, getRemainingTimeInMillis: () => 29000 });
  answers[name] = response.statusCode;
}
(await import('node:fs')).writeFileSync(process.env.RESULT, JSON.stringify({ version: process.version, answers }));
process.exit(0);`,
    );
    const result = path.join(workDir, 'invoke.json');
    await run(node, ['--enable-source-maps', runner], {
      env: {
        PATH: process.env['PATH'],
        CHRONICLE_REQUIRE_PRODUCTION_STORES: 'true',
        EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false',
        REDIS_URL: 'redis://127.0.0.1:1',
        AUTH_ISSUER: 'https://issuer.test.example',
        AUTH_AUDIENCE: 'chronicle',
        AUTH_JWKS_URL: 'http://127.0.0.1:1/.well-known/jwks.json',
        CONSISTENCY_TOKEN_KEY: 'bundle-check-consistency-key-0123456789',
        EMAIL_RESERVATION_KEY: 'bundle-check-reservation-key-0123456789',
        DATA_KEY_WRAPPING_KEY: Buffer.alloc(32, 7).toString('base64'),
        LOG_LEVEL: 'error',
        TASKS: JSON.stringify(tasks.map((t) => ({ name: t.name, file: path.join(t.dir, t.module), stores: t.stores }))),
        RESULT: result,
      },
      timeout: 100_000,
      maxBuffer: 8 * 1024 * 1024,
    });
    const { version, answers } = JSON.parse(readFileSync(result, 'utf8')) as { version: string; answers: Record<string, number> };
    expect(version).toMatch(/^v24\./);
    expect(Object.keys(answers).sort()).toEqual([...packaged.zips.keys()].sort());
    for (const [name, status] of Object.entries(answers)) expect([name, status >= 400 && status < 600]).toEqual([name, true]);
    // POST on /users/{id}: a path the API knows, with a method it does not take.
    expect(answers['routeNotFound']).toBe(405);
    expect(answers['health']).toBe(503);
  });

  describe('the projector bundle', () => {
    let emulator: EsdbEmulator;
    beforeAll(async () => {
      emulator = await startEsdbEmulator();
    });
    afterAll(async () => {
      await emulator?.stop();
    });

    it('starts on Node 24 in the production configuration and reports healthy', { timeout: 60_000 }, async ({ skip }) => {
      await requireRedis(skip);
      const dir = path.join(REPO_ROOT, '.tmp', `projector-node24-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'projector.mjs');
      // The image's bundle: its build stage runs scripts/build.ts, which builds these options.
      expect(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8')).toMatch(/^RUN npx tsx scripts\/build\.ts$/m);
      await build(projectorBundleOptions(dir));
      const healthPort = await freePort();
      const child = spawn(await node24Binary(), ['--enable-source-maps', file], {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env['PATH'],
          CHRONICLE_REQUIRE_PRODUCTION_STORES: 'true',
          EVENTSTORE_CONNECTION_STRING: emulator.connectionString,
          REDIS_URL: sharedRedisUrl(),
          READ_MODEL_VERSION: String(uniqueReadModelVersion()),
          PROJECTOR_GROUP: `node24-${process.pid}`,
          PROJECTOR_HEALTH_PORT: String(healthPort),
          PROJECTOR_EMF_INTERVAL_MS: '200',
          CHRONICLE_STAGE: 'test',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        const deadline = Date.now() + 30_000;
        let status = 0;
        while (status !== 200 && Date.now() < deadline) {
          status = (await fetch(`http://127.0.0.1:${healthPort}/health`).catch(() => null))?.status ?? 0;
          if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect([status, output.slice(-2000)]).toEqual([200, expect.any(String)]);
        expect(await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text()).toContain('chronicle_projector_lag_positions');
        // Its CloudWatch metrics as EMF lines on stdout
        await new Promise((resolve) => setTimeout(resolve, 500));
        const emf = output.split('\n').find((line) => line.includes('"CloudWatchMetrics"'));
        expect(emf && (JSON.parse(emf) as Json)).toMatchObject({ Stage: 'test', ProjectorLagPositions: expect.any(Number), ProjectorParkedEvents: 0 });
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
