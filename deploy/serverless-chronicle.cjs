'use strict';
/**
 * Chronicle's own serverless plugin (serverless.yml `plugins`), for what the framework cannot say:
 *
 * 1. serverless@3's schema predates `nodejs24.x`; it is added so validation does not warn.
 * 2. A production stage (param productionStage: true) refuses to package or deploy while a required
 *    param is empty, naming it, and while authIssuer and authAudience are not given together.
 * 3. Every function gets an Errors and a Throttles alarm to the alarm topic, and the reserved
 *    concurrency of its group when that param is set (an empty param reserves nothing).
 * 4. Least privilege per function: on a deployed stage each function's `access:` list (kinds from
 *    deploy/lambdaAccess.yml) becomes its environment, its CHRONICLE_STORES and a role of its
 *    own with exactly those statements, plus writing its own log group and the network-interface
 *    actions of a function in a VPC (inline). A function without `access:` stops the package.
 *
 * The checks are exported for test/deploy/productionPackage.test.ts.
 */

const isEmpty = (value) => value === undefined || value === null || String(value).trim() === '';

/** Problems with the params of a production stage, one message per param (empty when none). */
const productionParamProblems = (chronicle) => {
  if (String(chronicle.productionStage) !== 'true') return [];
  const problems = Object.entries(chronicle.requiredParams ?? {})
    .filter(([, value]) => isEmpty(value))
    .map(([name]) => `${name}: required on a production stage and empty (set it under params in serverless.yml or pass --param="${name}=…")`);
  const { authIssuer, authAudience } = chronicle.pairedParams ?? {};
  if (!isEmpty(authIssuer) && isEmpty(authAudience)) problems.push('authAudience: required when authIssuer is set');
  if (isEmpty(authIssuer) && !isEmpty(authAudience)) problems.push('authIssuer: required when authAudience is set');
  if (!isEmpty(authIssuer) && !/^https:\/\/\S+$/.test(String(authIssuer))) problems.push('authIssuer: must be an https:// URL');
  return problems;
};

const alarm = (description, functionRef, metricName, topic) => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    AlarmDescription: description,
    Namespace: 'AWS/Lambda',
    MetricName: metricName,
    Dimensions: [{ Name: 'FunctionName', Value: functionRef }],
    Statistic: 'Sum',
    Period: 300,
    EvaluationPeriods: 1,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [topic],
    OKActions: [topic],
  },
});

/**
 * What Lambda needs to attach a function to the VPC (the network interfaces), in place of the
 * managed AWSLambdaVPCAccessExecutionRole, which also grants logs:* writes to every log group:
 * the Describe actions work only on "*" (AWS's Lambda guide says so); creating, deleting and
 * (un)assigning addresses are limited to this account and region.
 */
const VPC_NETWORK_STATEMENTS = [
  { Sid: 'DescribeVpcNetwork', Effect: 'Allow', Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Resource: '*' },
  {
    Sid: 'ManageVpcNetworkInterfaces',
    Effect: 'Allow',
    Action: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
    Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:*/*' }],
  },
];

/**
 * A function's environment, stores and IAM statements from its access kinds (a pure function of
 * the declarations, exported for the tests).
 */
const functionAccess = (functionName, access, kinds) => {
  if (!Array.isArray(access) || access.length === 0) throw new Error(`${functionName}: declares no access (list its kinds from deploy/lambdaAccess.yml under access:)`);
  const environment = {};
  const stores = [];
  const statements = [];
  for (const kind of access) {
    const grant = kinds[kind];
    if (grant === undefined) throw new Error(`${functionName}: unknown access "${kind}" (known: ${Object.keys(kinds).join(', ')})`);
    Object.assign(environment, grant.environment ?? {});
    if (grant.store !== undefined) stores.push(grant.store);
    statements.push(...(grant.statements ?? []));
  }
  return { environment: { ...environment, CHRONICLE_STORES: stores.length === 0 ? 'none' : stores.join(',') }, statements };
};

const lambdaRole = (deployedName, statements, inVpc) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
    },
    Policies: [
      {
        PolicyName: deployedName,
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'WriteOwnLogs',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: [{ 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${deployedName}:*` }],
            },
            ...(inVpc ? VPC_NETWORK_STATEMENTS : []),
            ...statements,
          ],
        },
      },
    ],
  },
});

class ChroniclePlugin {
  constructor(serverless) {
    this.serverless = serverless;
    const runtimes = serverless.configSchemaHandler?.schema?.definitions?.awsLambdaRuntime?.enum;
    if (Array.isArray(runtimes) && !runtimes.includes('nodejs24.x')) runtimes.push('nodejs24.x');
    serverless.configSchemaHandler?.defineFunctionProperties?.('aws', {
      properties: { access: { type: 'array', items: { type: 'string' } } },
    });
    this.roles = {};
    this.hooks = {
      'before:package:initialize': () => {
        this.checkParams();
        this.applyAccess();
      },
      'package:compileEvents': () => this.addFunctionSettings(),
    };
  }

  chronicle() {
    return this.serverless.service.custom?.chronicle ?? {};
  }

  checkParams() {
    const problems = productionParamProblems(this.chronicle());
    if (problems.length > 0)
      throw new this.serverless.classes.Error(`Stage ${this.serverless.service.provider.stage} is a production stage:\n  ${problems.join('\n  ')}`);
  }

  /** Deployed stages only: locally serverless-offline takes the environment from the shell. */
  applyAccess() {
    const chronicle = this.chronicle();
    if (chronicle.accessKinds === undefined || chronicle.accessKinds === null) return;
    const { service } = this.serverless;
    const naming = this.serverless.getProvider('aws').naming;
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      let access;
      try {
        access = functionAccess(name, fn.access, chronicle.accessKinds);
      } catch (error) {
        throw new this.serverless.classes.Error(error.message);
      }
      const roleId = `${naming.getNormalizedFunctionName(name)}LambdaRole`;
      fn.environment = { ...access.environment, ...(fn.environment ?? {}) };
      fn.role = roleId;
      this.roles[roleId] = lambdaRole(fn.name, access.statements, (fn.vpc ?? service.provider.vpc) != null);
    }
  }

  addFunctionSettings() {
    const { service } = this.serverless;
    const naming = this.serverless.getProvider('aws').naming;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const chronicle = this.chronicle();
    Object.assign(resources, this.roles);
    const topic = chronicle.alarmTopic;
    for (const name of service.getAllFunctions()) {
      const logicalId = naming.getLambdaLogicalId(name);
      if (resources[logicalId] === undefined) continue;
      const ref = { Ref: logicalId };
      resources[`${logicalId}ErrorsAlarm`] = alarm(`${name}: the function failed (crash, timeout or init error)`, ref, 'Errors', topic);
      resources[`${logicalId}ThrottlesAlarm`] = alarm(`${name}: invocations were throttled`, ref, 'Throttles', topic);
    }
    for (const [group, { value, functions }] of Object.entries(chronicle.reservedConcurrency ?? {})) {
      if (isEmpty(value)) continue;
      const reserved = Number(value);
      if (!Number.isInteger(reserved) || reserved < 1) throw new this.serverless.classes.Error(`${group}ReservedConcurrency: must be a whole number of 1 or more, got "${value}"`);
      for (const name of functions) {
        const fn = resources[naming.getLambdaLogicalId(name)];
        if (fn !== undefined) fn.Properties.ReservedConcurrentExecutions = reserved;
      }
    }
  }
}

module.exports = ChroniclePlugin;
module.exports.productionParamProblems = productionParamProblems;
module.exports.functionAccess = functionAccess;
