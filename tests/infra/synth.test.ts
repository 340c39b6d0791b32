import { App, NestedStack, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ManagedPolicy, User } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ApiStack, logicalName } from '../../infra/api-stack.js';
import { deployFunctions, functionFiles, powertoolsVersion } from '../../infra/functions.js';
import { checkWithNag } from '../../infra/nag.js';
import { metricsNamespace } from '../../infra/observability.js';
import { stageConfig, stages } from '../../infra/stages.js';
import type { FileAccess } from '../../shared/files/prefixes.js';
import type { RouteDefinition } from '../../shared/http/route.js';
import { outboxRelay, queueList, queues, retention } from '../../shared/queue/queues.js';
import { fallbackRoute, routeList, routes } from '../../shared/routes/index.js';
import { flattenedTemplate, nestedTemplates } from './flatten.js';
import { PRIVATE_BUCKET_PROPERTIES } from './private-bucket.js';

type Resource = {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are untyped JSON.
  Properties: Record<string, any>;
  DependsOn?: string[];
  DeletionPolicy?: string;
  Metadata?: Record<string, unknown>;
};

/** A stage's app and stack, not yet synthesised; esbuild is skipped (`npm run synth` bundles). */
function stageApp(stageName: string, context: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stage = stageConfig(stageName, context as { domainName?: string; certificateArn?: string });
  return { app, stack: new ApiStack(app, `NotesApi-${stageName}`, { stage }) };
}

/** Synthesises a stage and indexes its template. */
function synth(stageName: string, context: Record<string, unknown> = {}) {
  const { app, stack } = stageApp(stageName, context);
  // The parent and its nested stacks (the domains' functions), folded into one.
  const template = flattenedTemplate(stack);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  /** Logical ids of the resources of `type`. */
  const ofType = (type: string) =>
    Object.entries(resources).filter(([, r]) => r.Type === type) as [string, Resource][];
  /** The logical id CDK gave a function of the stack. */
  const functionId = (file: string) => {
    const fn = stack.functions.get(file);
    return Stack.of(fn as never).getLogicalId(fn?.node.defaultChild as never);
  };
  return { app, stack, template, resources, ofType, functionId };
}

/** Functions that serve requests or run in the background (not the deploy-time ones). */
const runtimeFunctions = functionFiles().filter(
  (file) => !(Object.values(deployFunctions) as string[]).includes(file),
);

/** What a function may use, as the tests expect it (spelled out here, not taken from infra/). */
interface Expected {
  database: boolean;
  redis: boolean;
  signingKeys: boolean;
  publicKeys: boolean;
  tokenClaims: boolean;
  publishes: string[];
  /** Its accesses to the files bucket: `FILES_BUCKET` and object grants, when any. */
  files: FileAccess[];
  /** Sends e-mail: `ses:SendEmail` on the stage's identity, and `MAIL_FROM`. */
  sendsEmail?: boolean;
  /** Sends to its own queue and DLQ: their URLs and `sqs:SendMessage` on both. */
  requeues?: string;
}

/**
 * The rules, from a route-table entry, so a new route is covered without touching this file:
 * the database only with `database: true`; Redis for a rate limit (every route but the health
 * probes), for the deny list of signed-in routes and for the readiness probe; the PRIVATE
 * keys only with `signsTokens`; the PUBLIC keys on signed-in routes and the JWKS route.
 */
function expectedForRoute(route: RouteDefinition): Expected {
  const verifies = route.auth !== 'public';
  const signs = route.signsTokens === true;
  return {
    database: route.database,
    redis: route.rateLimit !== null || verifies || route === routes.healthCheck,
    signingKeys: signs,
    publicKeys: verifies || route === routes.jwks,
    tokenClaims: verifies || signs,
    publishes: route.publishes ?? [],
    files: route.files ?? [],
  };
}

const DATABASE_ONLY: Expected = {
  database: true,
  redis: false,
  signingKeys: false,
  publicKeys: false,
  tokenClaims: false,
  publishes: [],
  files: [],
};

/** Every runtime function and what it may use: routes, fallback, queue workers, scheduled. */
// Routes that share a function (the API keys') give it once; they must expect the same.
const routeExpectations = new Map<string, Expected>();
for (const r of [...routeList, fallbackRoute]) {
  const expected = expectedForRoute(r);
  const earlier = routeExpectations.get(r.function);
  if (earlier && JSON.stringify(earlier) !== JSON.stringify(expected)) {
    throw new Error(`the routes of ${r.function} need different grants: give them own functions`);
  }
  routeExpectations.set(r.function, expected);
}
const expectations: [string, Expected][] = [
  ...routeExpectations,
  ...queueList.map((q): [string, Expected] => [
    q.worker,
    {
      ...DATABASE_ONLY,
      sendsEmail: q.sendsEmail === true,
      files: q.files ?? [],
      ...(q.requeues ? { requeues: q.name } : {}),
    },
  ]),
  [outboxRelay.function, { ...DATABASE_ONLY, publishes: queueList.map((q) => q.name) }],
  [retention.function, DATABASE_ONLY],
];

/** `rate(…)` as CDK writes `Schedule.rate(Duration.minutes(n))`: the largest whole unit. */
function rateOf(minutes: number): string {
  const [value, unit] =
    minutes % 1440 === 0
      ? [minutes / 1440, 'day']
      : minutes % 60 === 0
        ? [minutes / 60, 'hour']
        : [minutes, 'minute'];
  return `rate(${value} ${unit}${value === 1 ? '' : 's'})`;
}

/** The logical id a `Ref` or `Fn::GetAtt` points at. */
function targetId(value: unknown): string {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return v.Ref ?? v['Fn::GetAtt']?.[0] ?? JSON.stringify(value);
}

/** Actions that support no resource-level permission, the only ones allowed on "*". */
const ACTIONS_WITHOUT_RESOURCES = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'secretsmanager:GetRandomPassword',
  // CDK's log-retention helper (RDS log group retention).
  'logs:PutRetentionPolicy',
  'logs:DeleteRetentionPolicy',
]);

describe.each(['dev', 'prod'])('CDK stack, stage %s', (stageName) => {
  const { stack, template, resources, ofType, functionId } = synth(stageName);
  const stage = stageConfig(stageName);
  const json = (value: unknown) => JSON.stringify(value);
  /** The logical id of the one secret whose id starts with `prefix`. */
  const secretId = (prefix: string) => {
    const ids = ofType('AWS::SecretsManager::Secret')
      .map(([id]) => id)
      .filter((id) => id.startsWith(prefix));
    expect(ids, prefix).toHaveLength(1);
    return ids[0] as string;
  };
  /** The logical id of the one queue whose id starts with `prefix` (not its DLQ). */
  const queueId = (prefix: string) => {
    const ids = ofType('AWS::SQS::Queue')
      .map(([id]) => id)
      .filter((id) => id.startsWith(prefix));
    expect(ids, prefix).toHaveLength(1);
    return ids[0] as string;
  };
  /** The logical id of a function's execution role. */
  const roleOf = (file: string) =>
    targetId((resources[functionId(file)] as Resource).Properties.Role);

  it('has one Node 22 arm64 ESM function per route-table entry, the fallback, workers, relay and deploy-time functions', () => {
    expect([...stack.functions.keys()].sort()).toEqual([...functionFiles()].sort());
    for (const file of functionFiles()) {
      const fn = resources[functionId(file)] as Resource;
      expect(fn.Properties, file).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
      // Its own log group, kept for the stage's retention.
      const logGroupId = fn.Properties.LoggingConfig?.LogGroup?.Ref as string;
      expect(resources[logGroupId]?.Properties.RetentionInDays, file).toBe(stage.logRetention);
    }
  });

  it('gives every function the Powertools layer of the installed version, resolved from its SSM parameter', () => {
    const parameters = (template.toJSON().Parameters ?? {}) as Record<
      string,
      { Type: string; Default?: string }
    >;
    const layerParameter = Object.entries(parameters).find(
      ([, p]) =>
        p.Default === `/aws/service/powertools/typescript/generic/all/${powertoolsVersion()}`,
    );
    expect(layerParameter?.[1].Type).toBe('AWS::SSM::Parameter::Value<String>');
    for (const file of functionFiles()) {
      const fn = resources[functionId(file)] as Resource;
      expect(fn.Properties.Layers, file).toEqual([{ Ref: layerParameter?.[0] }]);
    }
  });

  it('has one HTTP API route per entry (and HEAD beside each GET), wired to that entry’s function, and $default to the fallback', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route');
    const gets = routeList.filter((route) => route.method === 'GET');
    expect(routes).toHaveLength(routeList.length + gets.length + 1);
    const integrations = Object.fromEntries(ofType('AWS::ApiGatewayV2::Integration'));
    const targetOf = (routeKey: string) => {
      const route = routes.find(([, r]) => r.Properties.RouteKey === routeKey)?.[1];
      expect(route, routeKey).toBeDefined();
      const integrationId = route?.Properties.Target['Fn::Join'][1][1].Ref as string;
      return json(integrations[integrationId]?.Properties.IntegrationUri);
    };
    for (const route of routeList) {
      expect(targetOf(`${route.method} ${route.path}`)).toContain(functionId(route.function));
    }
    for (const route of gets) {
      expect(targetOf(`HEAD ${route.path}`)).toContain(functionId(route.function));
    }
    expect(targetOf('$default')).toContain(functionId(fallbackRoute.function));
  });

  it('throttles the API by default, allows only the stage’s CORS origins and writes JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: {
        ThrottlingRateLimit: stage.throttle.rateLimit,
        ThrottlingBurstLimit: stage.throttle.burstLimit,
      },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('context.requestId'),
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: stage.corsOrigins }),
    });
  });

  it('places in the VPC’s private subnets the functions that need it, and only those', () => {
    for (const [file, expected] of expectations) {
      const config = (resources[functionId(file)] as Resource).Properties.VpcConfig;
      const inVpc = expected.database || (expected.redis && stage.cache.mode === 'elasticache');
      if (!inVpc) {
        expect(config, file).toBeUndefined();
        continue;
      }
      expect(config, file).toBeDefined();
      expect(config.SubnetIds, file).toHaveLength(stage.network.maxAzs);
      for (const subnet of config.SubnetIds) expect(subnet.Ref, file).toMatch(/^NetworkVpcapp/);
    }
    const migrate = (resources[functionId(deployFunctions.migrate)] as Resource).Properties;
    for (const subnet of migrate.VpcConfig.SubnetIds) expect(subnet.Ref).toMatch(/^NetworkVpcapp/);
    // The liveness probe uses nothing: never in the VPC, whatever the cache.
    expect(
      (resources[functionId(routes.healthLive.function)] as Resource).Properties.VpcConfig,
    ).toBeUndefined();
    template.resourceCountIs('AWS::EC2::NatGateway', stage.network.natGateways);
    const endpoints = ofType('AWS::EC2::VPCEndpoint').map(([, e]) => e.Properties);
    for (const service of ['sqs', 'secretsmanager']) {
      const endpoint = endpoints.find((e) => json(e.ServiceName).includes(`.${service}"`));
      expect(endpoint, service).toMatchObject({
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
      });
    }
    // S3 (the files bucket) through a gateway endpoint on the app subnets' route tables.
    const s3 = endpoints.find((e) => json(e.ServiceName).includes('.s3"'));
    expect(s3).toMatchObject({ VpcEndpointType: 'Gateway' });
    expect(s3?.RouteTableIds).toHaveLength(stage.network.maxAzs);
    for (const table of s3?.RouteTableIds ?? []) expect(table.Ref).toMatch(/^NetworkVpcapp/);
  });

  it('keeps the database private: isolated subnets without routes out, reachable only from RDS Proxy', () => {
    const [[, db]] = ofType('AWS::RDS::DBInstance') as [[string, Resource]];
    expect(db.Properties.PubliclyAccessible).toBe(false);
    expect(db.Properties).toMatchObject({ Engine: 'postgres', EngineVersion: '17' });
    const [[subnetGroupId, subnetGroup]] = ofType('AWS::RDS::DBSubnetGroup') as [
      [string, Resource],
    ];
    expect(db.Properties.DBSubnetGroupName).toEqual({ Ref: subnetGroupId });
    const dataSubnets = subnetGroup.Properties.SubnetIds.map((s: { Ref: string }) => s.Ref);
    for (const subnet of dataSubnets) expect(subnet).toMatch(/^NetworkVpcdata/);
    // No route of a data subnet's route table leads anywhere (no IGW, no NAT).
    const dataRouteTables = ofType('AWS::EC2::SubnetRouteTableAssociation')
      .filter(([, r]) => dataSubnets.includes(r.Properties.SubnetId.Ref))
      .map(([, r]) => r.Properties.RouteTableId.Ref);
    expect(dataRouteTables).toHaveLength(stage.network.maxAzs);
    const routesOut = ofType('AWS::EC2::Route').filter(([, r]) =>
      dataRouteTables.includes(r.Properties.RouteTableId.Ref),
    );
    expect(routesOut).toEqual([]);
    // The instance's security group admits PostgreSQL from the proxy (and the rotation functions).
    const dbGroups = db.Properties.VPCSecurityGroups.map(
      (g: { 'Fn::GetAtt': [string] }) => g['Fn::GetAtt'][0],
    );
    const ingress = ofType('AWS::EC2::SecurityGroupIngress').filter(([, r]) =>
      dbGroups.includes(r.Properties.GroupId['Fn::GetAtt'][0]),
    );
    expect(ingress.length).toBeGreaterThan(0);
    for (const [, rule] of ingress) {
      expect(rule.Properties.SourceSecurityGroupId, json(rule)).toBeDefined();
      expect(rule.Properties.CidrIp, json(rule)).toBeUndefined();
    }
    expect(json(ingress)).toContain('ProxyProxySecurityGroup');
    for (const [, group] of ofType('AWS::EC2::SecurityGroup')) {
      for (const rule of group.Properties.SecurityGroupIngress ?? []) {
        expect(rule.CidrIp, json(rule)).not.toBe('0.0.0.0/0');
      }
    }
  });

  it('encrypts data at rest and in transit', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageEncrypted: true });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: Match.objectLike({ 'rds.force_ssl': '1' }),
    });
    const [[, proxy]] = ofType('AWS::RDS::DBProxy') as [[string, Resource]];
    expect(proxy.Properties.RequireTLS).toBe(true);
    expect(proxy.Properties.DBProxyName).toBe(`notes-api-${stageName}`);
    for (const auth of proxy.Properties.Auth) expect(auth.IAMAuth).toBe('REQUIRED');
    for (const [, queue] of ofType('AWS::SQS::Queue')) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
    for (const [file, expected] of expectations) {
      const variables = (resources[functionId(file)] as Resource).Properties.Environment.Variables;
      expect(json(variables), file).not.toMatch(/password/i);
      if (!expected.database) continue;
      expect(json(variables.DATABASE_URL), file).toContain('sslmode=verify-full');
      expect(json(variables.DATABASE_URL), file).toContain('notes_app@');
      expect(variables.DATABASE_IAM_AUTH, file).toBe('true');
    }
  });

  it(`${stageName === 'prod' ? 'has' : 'skips'} Multi-AZ and deletion protection, keeps ${stage.database.backupRetentionDays} days of backups`, () => {
    const [[, db]] = ofType('AWS::RDS::DBInstance') as [[string, Resource]];
    const prod = stageName === 'prod';
    expect(db.Properties.MultiAZ).toBe(prod);
    expect(db.Properties.DeletionProtection).toBe(prod);
    expect(db.Properties.BackupRetentionPeriod).toBe(stage.database.backupRetentionDays);
    expect(db.Properties.BackupRetentionPeriod).toBeGreaterThanOrEqual(1);
    expect(db.DeletionPolicy).toBe(prod ? 'Snapshot' : 'Delete');
  });

  it('rotates the database secrets and the JWT signing keys (first key at creation), publishing the public keys', () => {
    const schedules = ofType('AWS::SecretsManager::RotationSchedule');
    expect(schedules).toHaveLength(3);
    const rotation = functionId(deployFunctions.rotateSigningKeys);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: secretId('JwtSigningKeys') },
      RotateImmediatelyOnUpdate: true,
      RotationLambdaARN: { 'Fn::GetAtt': [rotation, 'Arn'] },
      RotationRules: { ScheduleExpression: `rate(${stage.signingKeyRotationDays} days)` },
    });
    const fn = (resources[rotation] as Resource).Properties;
    expect(fn.Environment.Variables.JWT_PUBLIC_KEYS_SECRET_ARN).toEqual({
      Ref: secretId('JwtPublicKeys'),
    });
    // It waits PUBLICATION_LEAD_MS (70 s) before promoting: room for that in its timeout.
    expect(fn.Timeout).toBeGreaterThanOrEqual(120);
    // Only the rotation writes the public keys.
    const writers = ofType('AWS::IAM::Policy').filter(([, p]) =>
      p.Properties.PolicyDocument.Statement.some(
        (st: { Action: string | string[]; Resource: unknown }) =>
          [st.Action].flat().includes('secretsmanager:PutSecretValue') &&
          [st.Resource].flat().some((r) => targetId(r) === secretId('JwtPublicKeys')),
      ),
    );
    expect(writers.flatMap(([, p]) => p.Properties.Roles.map(targetId))).toEqual([
      roleOf(deployFunctions.rotateSigningKeys),
    ]);
  });

  it('lets only the functions that sign tokens (login, refresh) and the rotation read the private signing keys', () => {
    const signers = routeList.filter((r) => r.signsTokens).map((r) => r.function);
    expect(signers.sort()).toEqual(['auth/login', 'auth/refresh']);
    const readers = ofType('AWS::IAM::Policy')
      .filter(([, p]) =>
        p.Properties.PolicyDocument.Statement.some(
          (st: { Action: string | string[]; Resource: unknown }) =>
            [st.Action].flat().some((a) => a.startsWith('secretsmanager:Get')) &&
            [st.Resource].flat().some((r) => targetId(r) === secretId('JwtSigningKeys')),
        ),
      )
      .flatMap(([, p]) => p.Properties.Roles.map(targetId));
    expect(readers.sort()).toEqual(
      [...signers, deployFunctions.rotateSigningKeys].map((file) => roleOf(file)).sort(),
    );
    // Nobody else is given the secret by a resource policy (the rotation's only denies
    // deleting it) or a variable.
    for (const [, policy] of ofType('AWS::SecretsManager::ResourcePolicy')) {
      if (targetId(policy.Properties.SecretId) !== secretId('JwtSigningKeys')) continue;
      for (const statement of policy.Properties.ResourcePolicy.Statement) {
        expect(statement.Effect, json(statement)).toBe('Deny');
      }
    }
    for (const [file, fn] of stack.functions) {
      const variables = json(
        (resources[Stack.of(fn).getLogicalId(fn.node.defaultChild as never)] as Resource).Properties
          .Environment.Variables,
      );
      if (!signers.includes(file) && file !== deployFunctions.rotateSigningKeys) {
        expect(variables, file).not.toContain(secretId('JwtSigningKeys'));
      }
    }
  });

  it('grants each function exactly what its route-table entry (or worker definition) says it uses', () => {
    expect(expectations.map(([file]) => file).sort()).toEqual([...runtimeFunctions].sort());
    const base = [
      'NODE_OPTIONS',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'STAGE',
    ];
    for (const [file, expected] of expectations) {
      const fn = (resources[functionId(file)] as Resource).Properties;
      const statements = ofType('AWS::IAM::Policy')
        .filter(([, p]) => p.Properties.Roles.some((r: unknown) => targetId(r) === roleOf(file)))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement) as {
        Action: string | string[];
        Resource: unknown;
      }[];
      const resourcesOf = (action: string) =>
        statements
          .filter((st) => [st.Action].flat().includes(action))
          .flatMap((st) => [st.Resource].flat());
      const secretsRead = resourcesOf('secretsmanager:GetSecretValue').map(targetId).sort();
      const dbUsers = resourcesOf('rds-db:connect').map(
        (r) => /\/(\w+)"\]\]\}$/.exec(json(r))?.[1],
      );
      const queuesSentTo = resourcesOf('sqs:SendMessage').map(targetId).sort();
      const variables = Object.keys(fn.Environment.Variables).sort();
      // The namespace the metrics are written to is the one the dashboard reads.
      expect(fn.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE, file).toBe(
        metricsNamespace(stage.name),
      );

      expect(secretsRead, `${file}: secrets`).toEqual(
        [
          ...(expected.signingKeys ? [secretId('JwtSigningKeys')] : []),
          ...(expected.publicKeys ? [secretId('JwtPublicKeys')] : []),
          ...(expected.redis ? [secretId('Cache')] : []),
        ].sort(),
      );
      expect(dbUsers, `${file}: rds-db:connect`).toEqual(expected.database ? ['notes_app'] : []);
      expect(queuesSentTo, `${file}: sqs:SendMessage`).toEqual(
        [
          ...expected.publishes.map((q) => `${logicalName(q)}Queue`),
          ...(expected.requeues
            ? [`${logicalName(expected.requeues)}Queue`, `${logicalName(expected.requeues)}Dlq`]
            : []),
        ]
          .map(queueId)
          .sort(),
      );
      expect(
        statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:'))).length > 0,
        `${file}: s3 statements`,
      ).toBe(expected.files.length > 0);
      expect(variables, `${file}: environment`).toEqual(
        [
          ...base,
          ...(expected.database ? ['DATABASE_IAM_AUTH', 'DATABASE_URL', 'DB_POOL_MAX'] : []),
          ...(expected.tokenClaims ? ['JWT_AUDIENCE', 'JWT_ISSUER'] : []),
          ...(expected.signingKeys ? ['JWT_SIGNING_KEYS_SECRET_ARN'] : []),
          ...(expected.publicKeys ? ['JWT_PUBLIC_KEYS_SECRET_ARN'] : []),
          ...(expected.redis ? ['REDIS_REST_SECRET_ARN'] : []),
          ...expected.publishes.map((q) => `${q.toUpperCase()}_QUEUE_URL`),
          ...(expected.sendsEmail ? ['MAIL_FROM'] : []),
          ...(expected.files.length ? ['FILES_BUCKET'] : []),
          ...(expected.requeues
            ? [
                `${expected.requeues.toUpperCase()}_QUEUE_URL`,
                `${expected.requeues.toUpperCase()}_DLQ_URL`,
              ]
            : []),
        ].sort(),
      );
    }
    // The cases the rules are for, named.
    const [live, check, jwks, docs, login, get] = [
      routes.healthLive,
      routes.healthCheck,
      routes.jwks,
      routes.openapi,
      routes.login,
      routes.getNote,
    ].map((r) => expectedForRoute(r));
    expect(live).toEqual({ ...DATABASE_ONLY, database: false });
    expect(check).toMatchObject({ database: true, redis: true, publicKeys: false });
    expect(jwks).toMatchObject({ database: false, redis: true, publicKeys: true });
    expect(docs).toMatchObject({ database: false, redis: true, publicKeys: false });
    expect(login).toMatchObject({ signingKeys: true, publicKeys: false });
    expect(get).toMatchObject({ signingKeys: false, publicKeys: true, tokenClaims: true });
  });

  it('gives HTTP functions a timeout of 10–29 s: above the per-request deadline, below API Gateway’s 30 s', () => {
    for (const file of [...routeList.map((r) => r.function), fallbackRoute.function]) {
      const timeout = (resources[functionId(file)] as Resource).Properties.Timeout;
      expect(timeout, file).toBe(stage.timeout.toSeconds());
      expect(timeout, file).toBeGreaterThanOrEqual(10);
      expect(timeout, file).toBeLessThan(30);
    }
  });

  it('migrates before any function is created or updated, after the database and proxy', () => {
    const [[triggerId, trigger]] = ofType('Custom::Trigger') as [[string, Resource]];
    expect(json(trigger.Properties.HandlerArn)).toContain(
      `${logicalName(deployFunctions.migrate)}Function`,
    );
    expect(trigger.Properties.ExecuteOnHandlerChange).toBe(true);
    const [[dbId]] = ofType('AWS::RDS::DBInstance') as [[string, Resource]];
    const [[proxyId]] = ofType('AWS::RDS::DBProxy') as [[string, Resource]];
    expect(trigger.DependsOn).toEqual(expect.arrayContaining([dbId, proxyId]));
    for (const file of runtimeFunctions) {
      expect((resources[functionId(file)] as Resource).DependsOn, file).toContain(triggerId);
    }
    const migrate = (resources[functionId(deployFunctions.migrate)] as Resource).Properties;
    expect(json(migrate.Environment.Variables.DATABASE_URL)).toContain('notes_admin@');
    expect(migrate.Environment.Variables.APP_DATABASE_SECRET_ARN).toBeDefined();
  });

  it('gives every queue a DLQ with maxReceiveCount 5 and its worker a mapping with partial batch responses', () => {
    for (const queue of queueList) {
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `${stageName}-${queue.name}`,
        VisibilityTimeout: queue.visibilityTimeoutSeconds,
        RedrivePolicy: {
          maxReceiveCount: queue.maxReceiveCount,
          deadLetterTargetArn: Match.anyValue(),
        },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `${stageName}-${queue.name}-dlq`,
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionId(queue.worker) },
        BatchSize: queue.batchSize,
        MaximumBatchingWindowInSeconds: queue.maxBatchingWindowSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect((resources[functionId(queue.worker)] as Resource).Properties.Timeout, queue.name).toBe(
        queue.workerTimeoutSeconds,
      );
      // At least 6 × the worker's timeout (AWS docs), so a retried invocation keeps its message.
      expect(queue.visibilityTimeoutSeconds, queue.name).toBeGreaterThanOrEqual(
        6 * queue.workerTimeoutSeconds,
      );
    }
  });

  it('lets the e-mail worker alone send e-mail: ses:SendEmail only, on the stage’s SES identity only', () => {
    const identities = ofType('AWS::SES::EmailIdentity');
    expect(identities).toHaveLength(1);
    const [[identityId, identity]] = identities as [[string, Resource]];
    const { mail } = stage;
    expect(identity.Properties.EmailIdentity).toBe(
      'email' in mail.identity ? mail.identity.email : mail.identity.domain,
    );
    expect(identity.DeletionPolicy).toBe(stageName === 'prod' ? 'Retain' : 'Delete');
    const senders = queueList.filter((q) => q.sendsEmail).map((q) => q.worker);
    expect(senders).toEqual(['workers/email']);
    // Every statement of every policy that names an SES action.
    const sesStatements = ofType('AWS::IAM::Policy').flatMap(([, p]) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((st) => [st.Action].flat().some((a) => a.startsWith('ses:')))
        .map((st) => ({ st, roles: p.Properties.Roles.map(targetId) as string[] })),
    );
    expect(sesStatements).toHaveLength(1);
    const [{ st, roles }] = sesStatements as [(typeof sesStatements)[number]];
    expect(roles).toEqual([roleOf('workers/email')]);
    expect(st.Action).toBe('ses:SendEmail');
    expect(st.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ses:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':identity/',
          { Ref: identityId },
        ],
      ],
    });
    // No resource policy or other grant hands out SES either.
    expect(json(template.toJSON()).match(/"ses:/g)).toHaveLength(1);
    const variables = (resources[functionId('workers/email')] as Resource).Properties.Environment
      .Variables;
    expect(variables.MAIL_FROM).toBe(mail.from);
    // Its queue and DLQ come from the shared definitions, like every queue's.
    expect(queueId('EmailQueue')).toBeTruthy();
    expect(queueId('EmailDlq')).toBeTruthy();
  });

  /** The logical id of the files bucket: the one bucket that logs its access to the other. */
  const filesBucketId = () => {
    const logged = ofType('AWS::S3::Bucket').filter(([, b]) => b.Properties.LoggingConfiguration);
    expect(logged).toHaveLength(1);
    return (logged[0] as [string, Resource])[0];
  };
  /** Every IAM statement that names an S3 action, with the roles of its policy. */
  const s3Statements = () =>
    ofType('AWS::IAM::Policy').flatMap(([, p]) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:')))
        .map((st) => ({ st, roles: p.Properties.Roles.map(targetId) as string[] })),
    );

  it('has one private files bucket: SSE-S3, all public access blocked, owner-enforced, TLS only, lifecycle per prefix, access logs', () => {
    const buckets = ofType('AWS::S3::Bucket');
    // The files bucket and its access-log bucket, nothing else.
    expect(buckets).toHaveLength(2);
    const filesId = filesBucketId();
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties, id).toMatchObject(PRIVATE_BUCKET_PROPERTIES);
      // Prod keeps its files when the stack goes; dev is torn down with it.
      expect(bucket.DeletionPolicy, id).toBe(stageName === 'prod' ? 'Retain' : 'Delete');
      const policies = ofType('AWS::S3::BucketPolicy').filter(
        ([, p]) => targetId(p.Properties.Bucket) === id,
      );
      expect(policies, id).toHaveLength(1);
      expect(json(policies[0]?.[1].Properties.PolicyDocument), id).toContain(
        '"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Deny"',
      );
    }
    const files = (resources[filesId] as Resource).Properties;
    expect(files.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: 'exports/', ExpirationInDays: 7, Status: 'Enabled' }),
        expect.objectContaining({ Prefix: 'uploads/', ExpirationInDays: 1, Status: 'Enabled' }),
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
      ]),
    );
    expect(files.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'files/' });
    // A browser on the stage's origins may PUT an upload and GET an export (presigned).
    expect(files.CorsConfiguration.CorsRules).toEqual([
      expect.objectContaining({
        AllowedOrigins: stage.corsOrigins,
        AllowedMethods: ['PUT', 'GET'],
      }),
    ]);
  });

  it('lets exactly the functions that declare files use the bucket: FILES_BUCKET and the declared object actions on the declared prefixes', () => {
    const filesId = filesBucketId();
    const objects = (prefix: string) => ({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [filesId, 'Arn'] }, `/${prefix}/*`]],
    });
    const withFiles = expectations.filter(([, e]) => e.files.length).map(([file]) => file);
    // Spelled out: the upload route writes uploads, the jobs worker writes and reads exports
    // and reads uploads. (A new declaration must be added here on purpose.)
    expect(withFiles.sort()).toEqual(['jobs/create-upload', 'workers/jobs']);
    const expectedGrants: Record<string, [string, string][]> = {
      'jobs/create-upload': [
        ['s3:AbortMultipartUpload', 'uploads'],
        ['s3:PutObject', 'uploads'],
      ],
      'workers/jobs': [
        ['s3:AbortMultipartUpload', 'exports'],
        ['s3:GetObject', 'exports'],
        ['s3:GetObject', 'uploads'],
        ['s3:PutObject', 'exports'],
      ],
    };
    const statements = s3Statements();
    for (const [file, grants] of Object.entries(expectedGrants)) {
      const actual = statements
        .filter(({ roles }) => roles.includes(roleOf(file)))
        .flatMap(({ st }) =>
          [st.Action].flat().flatMap((action) =>
            [st.Resource].flat().map((r) => {
              const prefix = ['exports', 'uploads'].find((p) => json(r) === json(objects(p)));
              return [action, prefix ?? json(r)];
            }),
          ),
        )
        .sort((a, b) => json(a).localeCompare(json(b)));
      expect(actual, file).toEqual(grants);
      const variables = (resources[functionId(file)] as Resource).Properties.Environment.Variables;
      expect(variables.FILES_BUCKET, file).toEqual({ Ref: filesId });
      // The endpoint override is for the local cloud only.
      expect(variables.S3_ENDPOINT, file).toBeUndefined();
    }
    // No other role holds any S3 action (CDK's own custom resources here, the trigger's and
    // the log-retention helper's, need none), and no role's policy names the bucket itself.
    const holders = new Set(statements.flatMap(({ roles }) => roles));
    expect([...holders].sort()).toEqual(withFiles.map(roleOf).sort());
    for (const type of ['AWS::IAM::Role', 'AWS::IAM::ManagedPolicy']) {
      for (const [id, r] of ofType(type)) expect(json(r.Properties), id).not.toContain('"s3:');
    }
    for (const [file, fn] of stack.functions) {
      if (withFiles.includes(file)) continue;
      const variables = (
        resources[Stack.of(fn).getLogicalId(fn.node.defaultChild as never)] as Resource
      ).Properties.Environment.Variables;
      expect(variables.FILES_BUCKET, file).toBeUndefined();
      expect(json(variables), file).not.toContain(filesId);
    }
  });

  it('runs the jobs worker one job per invocation for up to 900 s, sending only to its own queue and DLQ; submit and retry send only to the jobs queue', () => {
    const jobs = queues.jobs;
    const worker = (resources[functionId(jobs.worker)] as Resource).Properties;
    expect(worker.Timeout).toBe(900);
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: `${stageName}-jobs`,
      VisibilityTimeout: 5400,
    });
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => targetId(m.Properties.FunctionName) === functionId(jobs.worker),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.[1].Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [queueId('JobsQueue'), 'Arn'] },
      BatchSize: 1,
      MaximumBatchingWindowInSeconds: 0,
    });
    expect(worker.Environment.Variables.JOBS_QUEUE_URL).toEqual({ Ref: queueId('JobsQueue') });
    expect(worker.Environment.Variables.JOBS_DLQ_URL).toEqual({ Ref: queueId('JobsDlq') });
    /** The queues `file`'s role may send to. */
    const sendsTo = (file: string) =>
      ofType('AWS::IAM::Policy')
        .filter(([, p]) => p.Properties.Roles.some((r: unknown) => targetId(r) === roleOf(file)))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
        .filter((st: { Action: string | string[] }) =>
          [st.Action].flat().includes('sqs:SendMessage'),
        )
        .flatMap((st: { Resource: unknown }) => [st.Resource].flat().map(targetId))
        .sort();
    expect(sendsTo(jobs.worker)).toEqual([queueId('JobsDlq'), queueId('JobsQueue')].sort());
    for (const route of [routes.submitJob, routes.retryJob]) {
      expect(sendsTo(route.function), route.function).toEqual([queueId('JobsQueue')]);
    }
    // Only the jobs worker may put a message in the jobs DLQ (SQS moves the others itself).
    const dlqSenders = ofType('AWS::IAM::Policy').filter(([, p]) =>
      (
        p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]
      ).some(
        (st) =>
          [st.Action].flat().includes('sqs:SendMessage') &&
          [st.Resource].flat().some((r) => targetId(r) === queueId('JobsDlq')),
      ),
    );
    expect(dlqSenders.flatMap(([, p]) => p.Properties.Roles.map(targetId))).toEqual([
      roleOf(jobs.worker),
    ]);
    // Its DLQ has an alarm and a line on the dashboard, like every DLQ.
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(
      ([, a]) =>
        a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        json(a.Properties.Dimensions).includes(queueId('JobsDlq')),
    );
    expect(alarms).toHaveLength(1);
    const [[, dashboard]] = ofType('AWS::CloudWatch::Dashboard') as [[string, Resource]];
    expect(json(dashboard.Properties.DashboardBody)).toContain(queueId('JobsDlq'));
  });

  it('runs the outbox relay and the retention purge on their schedules', () => {
    for (const scheduled of [outboxRelay, retention]) {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: rateOf(scheduled.scheduleMinutes),
        Targets: [
          Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(scheduled.function), 'Arn'] } }),
        ],
      });
    }
  });

  it('grants least privilege: no wildcard actions, "*" resources only for actions without resource-level permissions', () => {
    const policies = ofType('AWS::IAM::Policy');
    for (const [id, policy] of policies) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions: string[] = [statement.Action].flat();
        for (const action of actions) {
          expect(action, `${id}: ${json(statement)}`).not.toMatch(/(^|:)\*$/);
        }
        if ([statement.Resource].flat().includes('*')) {
          for (const action of actions) {
            expect(ACTIONS_WITHOUT_RESOURCES.has(action), `${id}: ${action} on *`).toBe(true);
          }
        }
      }
    }
    // SQS send rights: only the functions that publish.
    const senders = policies
      .filter(([, p]) => json(p.Properties.PolicyDocument).includes('sqs:SendMessage'))
      .flatMap(([, p]) => p.Properties.Roles.map((r: { Ref: string }) => r.Ref));
    // One per function: routes that share one (the API keys') count once.
    const publishers = new Set([
      ...routeList.filter((r) => r.publishes?.length).map((r) => r.function),
      ...queueList.filter((q) => q.requeues).map((q) => q.worker),
      outboxRelay.function,
    ]);
    expect(senders).toHaveLength(publishers.size);
    // rds-db:connect: request and worker functions as notes_app, the migration as notes_admin.
    const connects = policies.filter(([, p]) =>
      json(p.Properties.PolicyDocument).includes('rds-db:connect'),
    );
    expect(connects).toHaveLength(expectations.filter(([, e]) => e.database).length + 1);
    const admin = connects.filter(([, p]) =>
      json(p.Properties.PolicyDocument).includes('/notes_admin'),
    );
    expect(admin).toHaveLength(1);
    expect(admin[0]?.[0]).toMatch(/^DeployMigrateFunction/);
  });

  it('reserves concurrency within the account quota (100 must stay unreserved)', () => {
    const reserved = ofType('AWS::Lambda::Function').reduce(
      (sum, [, fn]) => sum + (fn.Properties.ReservedConcurrentExecutions ?? 0),
      0,
    );
    expect(reserved).toBeLessThanOrEqual(stage.accountConcurrency - 100);
    if (stage.reservedConcurrencyPool) {
      expect(reserved).toBeGreaterThan(0);
      expect(reserved).toBeLessThanOrEqual(stage.reservedConcurrencyPool);
    }
  });

  it(`provisions the ${stage.cache.mode} cache behind one secret the functions read`, () => {
    const secretOf = (file: string) =>
      (resources[functionId(file)] as Resource).Properties.Environment.Variables
        .REDIS_REST_SECRET_ARN;
    const secret = secretOf('notes/list');
    expect(secret).toEqual({ Ref: expect.stringMatching(/^Cache/) });
    for (const [file, expected] of expectations) {
      expect(secretOf(file), file).toEqual(expected.redis ? secret : undefined);
    }
    if (stage.cache.mode === 'upstash') {
      template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 0);
      template.resourceCountIs('AWS::ECS::Service', 0);
      return;
    }
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      ServerlessCacheName: `notes-api-${stageName}`,
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: stage.cache.bridgeTasks,
      LaunchType: 'FARGATE',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Image: Match.stringLikeRegexp('serverless-redis-http'),
          Secrets: [Match.objectLike({ Name: 'SRH_TOKEN' })],
        }),
      ],
    });
    // Valkey admits only the bridge's tasks; the balancer only the functions.
    const ingressTo = (groupPrefix: string) =>
      ofType('AWS::EC2::SecurityGroupIngress').filter(([, r]) =>
        json(r.Properties.GroupId).includes(groupPrefix),
      );
    const valkey = ingressTo('CacheCacheSecurityGroup');
    expect(valkey).toHaveLength(1);
    expect(valkey[0]?.[1].Properties).toMatchObject({ FromPort: 6379, ToPort: 6379 });
    expect(json(valkey[0]?.[1].Properties.SourceSecurityGroupId)).toContain('CacheBridgeService');
    const balancer = ingressTo('CacheBridgeLoadBalancerSecurityGroup');
    expect(balancer).toHaveLength(1);
    expect(json(balancer[0]?.[1].Properties.SourceSecurityGroupId)).toContain(
      'NetworkFunctionSecurityGroup',
    );
  });

  it('alarms to one SNS topic: API 5xx and p99, errors + throttles of every function, DLQ depth, RDS CPU/connections/storage', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a);
    expect(alarms).toHaveLength(2 + functionFiles().length + queueList.length + 3);
    const [[topic]] = ofType('AWS::SNS::Topic') as [[string, Resource]];
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    for (const queue of queueList) {
      expect(
        alarms.some(
          (a) =>
            a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
            json(a.Properties.Dimensions).includes(`${logicalName(queue.name)}Dlq`),
        ),
        queue.name,
      ).toBe(true);
    }
    // Each function: one alarm on its Errors + Throttles (metric math).
    for (const metric of ['Errors', 'Throttles']) {
      expect(
        alarms.filter((a) =>
          (a.Properties.Metrics ?? []).some(
            (m: { MetricStat?: { Metric: { MetricName: string } } }) =>
              m.MetricStat?.Metric.MetricName === metric,
          ),
        ),
      ).toHaveLength(functionFiles().length);
    }
    // A missing data point of one metric (no throttles in a period) must not hide the other.
    const sums = alarms.filter((a) =>
      (a.Properties.Metrics ?? []).some((m: { Expression?: string }) => m.Expression),
    );
    for (const alarm of sums.filter((a) => json(a.Properties.Metrics).includes('Throttles'))) {
      expect(json(alarm.Properties.Metrics)).toContain('FILL(errors, 0) + FILL(throttles, 0)');
    }
    for (const metric of ['CPUUtilization', 'DatabaseConnections', 'FreeStorageSpace']) {
      expect(
        alarms.filter(
          (a) => a.Properties.MetricName === metric && a.Properties.Namespace === 'AWS/RDS',
        ),
        metric,
      ).toHaveLength(1);
    }
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::SNS::Subscription', stage.alarmEmail ? 1 : 0);
  });

  it('outputs what an operator needs after a deploy', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    for (const name of [
      'ApiUrl',
      'AlarmTopicArn',
      'DashboardName',
      'SigningKeysSecretArn',
      'PublicKeysSecretArn',
      'DatabaseProxyEndpoint',
      'DatabaseAdminSecretArn',
      'RedisSecretArn',
      'MigrateFunctionName',
      'MailIdentityName',
      'FilesBucketName',
    ]) {
      expect(outputs, name).toContain(name);
    }
  });

  it('keeps every template far below CloudFormation’s limits: the functions live in a nested stack per domain', () => {
    const templates = [
      ['parent', Template.fromStack(stack).toJSON()],
      ...[...nestedTemplates(stack)].map(([id, { template: t }]) => [id, t]),
    ] as [string, { Resources: object; Parameters?: object; Outputs?: object }][];
    expect(templates.length).toBeGreaterThan(5);
    // 500 resources, 200 parameters and 200 outputs per template (CloudFormation quotas).
    for (const [id, t] of templates) {
      expect(Object.keys(t.Resources).length, id).toBeLessThan(400);
      expect(Object.keys(t.Parameters ?? {}).length, id).toBeLessThan(150);
      expect(Object.keys(t.Outputs ?? {}).length, id).toBeLessThan(150);
    }
    // The folded template these tests read resolves every cross-stack parameter and output.
    // (The rotation applications' own `Outputs.RotationLambdaARN` are not ours.)
    expect(json(resources)).not.toMatch(/"Ref":"referenceto|"Outputs\.NotesApi/);
    for (const file of runtimeFunctions) {
      const home = Stack.of(stack.functions.get(file) as never);
      expect(NestedStack.isNestedStack(home), file).toBe(true);
      expect(home.node.id, file).toBe(`${logicalName(file.split('/')[0] as string)}Functions`);
    }
  });

  it(`names the stack and its named resources after the stage (${stageName})`, () => {
    expect(stack.stackName).toBe(`NotesApi-${stageName}`);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { Name: `notes-api-${stageName}` });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: `notes-api-${stageName}`,
    });
  });

  it('passes cdk-nag’s AwsSolutions rules, with a written reason for every acknowledged finding', () => {
    const { app, stack: checked } = stageApp(stageName);
    checkWithNag(app, checked);
    expect(() => app.synth()).not.toThrow();
    const acknowledged = checked.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === 'aws:cdk:acknowledged-rules');
    // Ours are the AwsSolutions ones (CDK acknowledges a few CloudFormation warnings itself).
    const entries = acknowledged
      .flatMap((m) => Object.entries(m.data as Record<string, unknown>))
      .filter(([id]) => id.includes('AwsSolutions-'));
    expect(entries.length).toBeGreaterThanOrEqual(8);
    for (const [id, value] of entries) {
      expect(json(value).length, id).toBeGreaterThan(40);
    }
  });
});

describe('stage configuration', () => {
  it('adds a custom domain from -c domainName and -c certificateArn, and refuses half of one', () => {
    const certificateArn = 'arn:aws:acm:eu-west-1:123456789012:certificate/abc';
    const { template } = synth('prod', { domainName: 'api.example.com', certificateArn });
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'api.example.com',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: certificateArn })],
    });
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    expect(Object.keys(template.toJSON().Outputs)).toContain('ApiDomainTarget');
    expect(() => stageConfig('prod', { domainName: 'api.example.com' })).toThrow(/both/);
    expect(() => stageConfig('qa')).toThrow(/Unknown stage/);
  });

  it('refuses a mail sender outside the stage’s SES identity', () => {
    const dev = stages.dev as (typeof stages)[string];
    try {
      stages.qa = {
        ...dev,
        name: 'qa',
        mail: { identity: { domain: 'shop.test' }, from: 'a@b.test' },
      };
      expect(() => stageConfig('qa')).toThrow(/not an address of its SES identity shop\.test/);
      stages.qa = {
        ...dev,
        name: 'qa',
        mail: { identity: { domain: 'shop.test' }, from: 'Orders@Shop.test' },
      };
      expect(stageConfig('qa').mail.from).toBe('Orders@Shop.test');
      stages.qa = {
        ...dev,
        name: 'qa',
        mail: { identity: { email: 'a@shop.test' }, from: 'b@shop.test' },
      };
      expect(() => stageConfig('qa')).toThrow(/not an address/);
    } finally {
      delete stages.qa;
    }
  });
});

describe('cdk-nag', () => {
  it('checks the nested stacks too: a finding in one fails the synth', () => {
    const { app, stack } = stageApp('dev');
    const nested = Stack.of(stack.functions.get('notes/get') as never);
    new User(nested, 'Unreviewed').addManagedPolicy(
      ManagedPolicy.fromAwsManagedPolicyName('AdministratorAccess'),
    );
    checkWithNag(app, stack);
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM4/);
  });

  it('fails the synth on a finding nobody acknowledged', () => {
    const { app, stack } = stageApp('dev');
    new User(stack, 'Unreviewed').addManagedPolicy(
      ManagedPolicy.fromAwsManagedPolicyName('AdministratorAccess'),
    );
    checkWithNag(app, stack);
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM4/);
  });
});

describe('sam local invoke metadata', () => {
  it('every function keeps the asset metadata SAM reads (aws:asset:path, aws:asset:property: Code)', () => {
    // The CDK CLI turns asset metadata on; SAM uses it to find each function's bundle in cdk.out.
    const { resources, functionId } = synth('dev', { 'aws:cdk:enable-asset-metadata': true });
    for (const file of functionFiles()) {
      const fn = resources[functionId(file)] as Resource;
      // With bundling skipped here the path is a placeholder; `npm run synth` gives `asset.<hash>`.
      expect(fn.Metadata?.['aws:asset:path'], file).toEqual(expect.any(String));
      expect(fn.Metadata?.['aws:asset:property'], file).toBe('Code');
    }
  });
});
