import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, NestedStack, SecretValue, Stack, type StackProps } from 'aws-cdk-lib';
import {
  type CfnStage,
  type CorsHttpMethod,
  DomainName,
  HttpApi,
  HttpMethod,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, LayerVersion, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { EmailIdentity, Identity } from 'aws-cdk-lib/aws-ses';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Trigger } from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import type { RouteDefinition } from '../shared/http/route.js';
import { outboxRelay, type QueueName, queueList, retention } from '../shared/queue/queues.js';
import { fallbackRoute, routeList } from '../shared/routes/index.js';
import { Cache } from './cache.js';
import { corsPolicy } from './cors.js';
import { ADMIN_USER, APP_USER, Database } from './database.js';
import {
  bundlingFor,
  databaseOnly,
  deployFunctions,
  type FunctionNeeds,
  powertoolsVersion,
  routeNeeds,
} from './functions.js';
import { Network } from './network.js';
import { metricsNamespace, Observability } from './observability.js';
import type { StageConfig } from './stages.js';
import { type FileAccess, FileStorage } from './storage.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** `notes/get` → `NotesGet`: stable logical ids derived from the handler file. */
export function logicalName(file: string): string {
  return file
    .split(/[/-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export interface ApiStackProps extends StackProps {
  stage: StageConfig;
}

/** Timeout of the retention purge: hourly runs, each purging in batches until this is near. */
const RETENTION_TIMEOUT = Duration.minutes(5);

/**
 * One stage of the product: an HTTP API with one Lambda per route-table entry (plus the
 * `$default` fallback), the SQS queues of `shared/queue/queues.ts` with DLQs and workers,
 * the outbox relay and the retention purge on schedules, in a VPC with RDS PostgreSQL behind
 * RDS Proxy and the Redis cache; the private files bucket of the jobs (`FileStorage`);
 * migrations run by a trigger before the functions are updated; the JWT signing keys in a
 * secret that Secrets Manager rotates, their public keys in a second secret; alarms and a
 * dashboard. Each function is granted only what its
 * route-table entry (or worker definition) says it uses (`FunctionNeeds`).
 */
export class ApiStack extends Stack {
  readonly functions = new Map<string, NodejsFunction>();
  /** What each function that uses the files bucket may do there (`FunctionNeeds.files`). */
  readonly fileAccess = new Map<string, readonly FileAccess[]>();
  readonly stage: StageConfig;
  readonly storage: FileStorage;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { stage } = props;
    this.stage = stage;

    const network = new Network(this, 'Network', { stage });
    const { vpc, functionSecurityGroup } = network;
    const database = new Database(this, 'Database', { stage, vpc });
    database.allowFrom(functionSecurityGroup);
    const cache = new Cache(this, 'Cache', { stage, vpc });
    cache.allowFrom(functionSecurityGroup);
    // The job files (exports, uploads): one bucket per stage, here in the parent beside the
    // other stateful resources; the functions in the nested stacks get its name and their
    // per-prefix grants as parameters.
    const storage = new FileStorage(this, 'Storage', { stage });
    this.storage = storage;

    // The PRIVATE signing keys: only the functions that sign tokens (and the rotation) read
    // them. Verifiers read the PUBLIC keys, which the rotation publishes to a second secret
    // before a new key may sign. Both empty until the first rotation, which runs when the
    // schedule is created.
    const signingKeys = new Secret(this, 'JwtSigningKeys', {
      description: `JWT signing keys (private JWK Set) of ${id}; rotated by Secrets Manager`,
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ keys: [] })),
      removalPolicy: stage.removalPolicy,
    });
    const publicKeys = new Secret(this, 'JwtPublicKeys', {
      description: `JWT public keys (JWK Set, no private key) of ${id}; written by the signing keys' rotation`,
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ keys: [] })),
      removalPolicy: stage.removalPolicy,
    });

    const queues = new Map<QueueName, Queue>();
    const deadLetterQueues = new Map<string, Queue>();
    for (const definition of queueList) {
      const deadLetterQueue = new Queue(this, `${logicalName(definition.name)}Dlq`, {
        queueName: `${stage.name}-${definition.name}-dlq`,
        retentionPeriod: Duration.seconds(definition.dlqRetentionSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy: stage.removalPolicy,
      });
      deadLetterQueues.set(definition.name, deadLetterQueue);
      queues.set(
        definition.name as QueueName,
        new Queue(this, `${logicalName(definition.name)}Queue`, {
          queueName: `${stage.name}-${definition.name}`,
          visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
          deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
          encryption: QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
          removalPolicy: stage.removalPolicy,
        }),
      );
    }

    // The Powertools Lambda layer of the installed version, resolved through the SSM
    // parameter Powertools publishes per version (docs: "Lambda layers"): the bundles take the
    // Tracer from it (and docs/openapi all of Powertools); see BUNDLE_EXTERNALS.
    const powertoolsLayer = LayerVersion.fromLayerVersionArn(
      this,
      'PowertoolsLayer',
      StringParameter.valueForStringParameter(
        this,
        `/aws/service/powertools/typescript/generic/all/${powertoolsVersion()}`,
      ),
    );

    // CloudFormation allows 500 resources per stack: the functions of each domain (the first
    // folder of their file: notes, orders, workers…) live in a nested stack of their own, with
    // everything that is theirs (role, policy, log group, invoke permission, event source
    // mapping). The deploy-time functions stay here, beside the trigger and rotation they serve.
    const domainStacks = new Map<string, NestedStack>();
    const scopeFor = (file: string): Construct => {
      const domain = file.split('/')[0] as string;
      if (file.startsWith('deploy/')) return this;
      let nested = domainStacks.get(domain);
      if (!nested) {
        nested = new NestedStack(this, `${logicalName(domain)}Functions`, {
          description: `notes-api ${stage.name}: the ${domain} functions`,
        });
        domainStacks.set(domain, nested);
      }
      return nested;
    };

    /**
     * A Node 22 arm64 function (a CommonJS bundle) from `functions/<file>.ts`, with its log
     * group, in its domain's nested stack (`scopeFor`).
     */
    const bundledFunction = (
      file: string,
      options: {
        timeout?: Duration;
        environment?: Record<string, string>;
        inVpc?: boolean;
        reservedConcurrency?: number;
      },
    ) => {
      const name = logicalName(file);
      const scope = scopeFor(file);
      const fn = new NodejsFunction(scope, `${name}Function`, {
        entry: join(REPO_ROOT, 'functions', `${file}.ts`),
        handler: 'handler',
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        memorySize: stage.memoryMb,
        timeout: options.timeout ?? stage.timeout,
        tracing: Tracing.ACTIVE,
        layers: [powertoolsLayer],
        reservedConcurrentExecutions: options.reservedConcurrency,
        ...(options.inVpc
          ? {
              vpc,
              vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
              securityGroups: [functionSecurityGroup],
            }
          : {}),
        logGroup: new LogGroup(scope, `${name}Logs`, {
          retention: stage.logRetention,
          removalPolicy: stage.removalPolicy,
        }),
        environment: {
          STAGE: stage.name,
          POWERTOOLS_SERVICE_NAME: 'notes-api',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(stage.name),
          NODE_OPTIONS: '--enable-source-maps',
          ...options.environment,
        },
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        bundling: bundlingFor(file),
      });
      this.functions.set(file, fn);
      return fn;
    };

    /**
     * A function of the API or a worker with exactly what `needs` says: the database as the
     * app user (`DATABASE_URL`, `rds-db:connect`, the VPC), the Redis secret (and the VPC when
     * the cache is inside it), the private signing keys or the public keys (with the claims
     * tokens carry), send rights on its queues, and its object actions on its prefixes of
     * the files bucket (`FILES_BUCKET`; no `S3_ENDPOINT` in AWS). Nothing else: no grant,
     * variable or network placement it does not use.
     */
    // The functions `makeFunction` makes: the fallback, one per route, the queue workers and
    // the two scheduled ones (outbox relay, retention); each gets its share of the pool.
    const sharing = 1 + new Set(routeList.map((r) => r.function)).size + queueList.length + 2;
    const reservedEach = stage.reservedConcurrencyPool
      ? Math.floor(stage.reservedConcurrencyPool / sharing)
      : undefined;
    const makeFunction = (
      file: string,
      needs: FunctionNeeds,
      options: { timeout?: Duration } = {},
    ) => {
      const environment: Record<string, string> = {};
      if (needs.database) {
        environment.DB_POOL_MAX = '1';
        environment.DATABASE_IAM_AUTH = 'true';
      }
      if (needs.tokenClaims) {
        environment.JWT_ISSUER = stage.issuer;
        environment.JWT_AUDIENCE = 'notes-api';
      }
      if (needs.signingKeys) environment.JWT_SIGNING_KEYS_SECRET_ARN = signingKeys.secretArn;
      if (needs.publicKeys) environment.JWT_PUBLIC_KEYS_SECRET_ARN = publicKeys.secretArn;
      if (needs.redis) environment.REDIS_REST_SECRET_ARN = cache.secret.secretArn;
      for (const queue of needs.publishes) {
        environment[`${queue.toUpperCase()}_QUEUE_URL`] = (queues.get(queue) as Queue).queueUrl;
      }
      if (needs.files.length) environment.FILES_BUCKET = storage.bucket.bucketName;
      const fn = bundledFunction(file, {
        timeout: options.timeout,
        environment,
        inVpc: needs.database || (needs.redis && cache.inVpc),
        reservedConcurrency: reservedEach,
      });
      if (needs.database) fn.addEnvironment('DATABASE_URL', database.connect(fn, APP_USER));
      if (needs.signingKeys) signingKeys.grantRead(fn);
      if (needs.publicKeys) publicKeys.grantRead(fn);
      if (needs.redis) cache.secret.grantRead(fn);
      for (const queue of needs.publishes) (queues.get(queue) as Queue).grantSendMessages(fn);
      if (needs.files.length) {
        storage.grant(fn, needs.files);
        this.fileAccess.set(file, needs.files);
      }
      return fn;
    };

    const fallback = makeFunction(fallbackRoute.function, routeNeeds(fallbackRoute));
    const domainName = stage.customDomain
      ? new DomainName(this, 'DomainName', {
          domainName: stage.customDomain.domainName,
          certificate: Certificate.fromCertificateArn(
            this,
            'Certificate',
            stage.customDomain.certificateArn,
          ),
        })
      : undefined;
    const api = new HttpApi(this, 'HttpApi', {
      apiName: `notes-api-${stage.name}`,
      defaultIntegration: new HttpLambdaIntegration('FallbackIntegration', fallback),
      ...(domainName ? { defaultDomainMapping: { domainName } } : {}),
      corsPreflight: {
        // The policy the local gateway also serves (infra/cors.ts); origins are per stage.
        allowOrigins: stage.corsOrigins,
        allowMethods: corsPolicy.allowMethods.map((method) => method as CorsHttpMethod),
        allowHeaders: [...corsPolicy.allowHeaders],
        exposeHeaders: [...corsPolicy.exposeHeaders],
        maxAge: Duration.seconds(corsPolicy.maxAgeSeconds),
      },
    });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: stage.logRetention,
      removalPolicy: stage.removalPolicy,
    });
    const defaultStage = api.defaultStage?.node.defaultChild as CfnStage | undefined;
    if (defaultStage) {
      defaultStage.defaultRouteSettings = {
        throttlingRateLimit: stage.throttle.rateLimit,
        throttlingBurstLimit: stage.throttle.burstLimit,
      };
      // One JSON line per request (HTTP API access logging variables, AWS docs).
      defaultStage.accessLogSettings = {
        destinationArn: accessLogs.logGroupArn,
        format: JSON.stringify({
          requestId: '$context.requestId',
          ip: '$context.identity.sourceIp',
          method: '$context.httpMethod',
          path: '$context.path',
          routeKey: '$context.routeKey',
          status: '$context.status',
          latencyMs: '$context.responseLatency',
          integrationLatencyMs: '$context.integrationLatency',
          integrationError: '$context.integrationErrorMessage',
        }),
      };
    }

    // A function may serve several routes: one function, one integration, each route.
    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const route of routeList as RouteDefinition[]) {
      let integration = integrations.get(route.function);
      if (!integration) {
        const fn = makeFunction(route.function, routeNeeds(route));
        integration = new HttpLambdaIntegration(`${logicalName(route.function)}Integration`, fn, {
          scopePermissionToRoute: false,
        });
        integrations.set(route.function, integration);
      }
      api.addRoutes({
        path: route.path,
        // HTTP APIs match methods exactly: every GET route also answers HEAD (RFC 9110 §9.3.2).
        methods:
          route.method === 'GET' ? [HttpMethod.GET, HttpMethod.HEAD] : [route.method as HttpMethod],
        // One invoke permission per function for this API (its GET and HEAD routes share it),
        // not one per route: fewer resources, and still only this API may invoke it.
        integration,
      });
    }

    // The stage's SES identity (verified out of band: docs/operations.md § Order e-mails).
    const { identity: mailIdentity } = stage.mail;
    const emailIdentity = new EmailIdentity(this, 'MailIdentity', {
      identity:
        'email' in mailIdentity
          ? Identity.email(mailIdentity.email)
          : Identity.domain(mailIdentity.domain),
    });
    emailIdentity.applyRemovalPolicy(stage.removalPolicy);

    for (const definition of queueList) {
      const queue = queues.get(definition.name as QueueName) as Queue;
      const worker = makeFunction(
        definition.worker,
        { ...databaseOnly, files: [...(definition.files ?? [])] },
        { timeout: Duration.seconds(definition.workerTimeoutSeconds) },
      );
      if (definition.requeues) {
        // Its own queue (continuations, delayed retries) and its DLQ (a job's last failure):
        // send rights on those two and their URLs, nothing else of SQS beyond consuming.
        const deadLetterQueue = deadLetterQueues.get(definition.name) as Queue;
        const prefix = definition.name.toUpperCase();
        worker.addEnvironment(`${prefix}_QUEUE_URL`, queue.queueUrl);
        worker.addEnvironment(`${prefix}_DLQ_URL`, deadLetterQueue.queueUrl);
        queue.grantSendMessages(worker);
        deadLetterQueue.grantSendMessages(worker);
      }
      if (definition.sendsEmail) {
        // SendEmail only (no SendRawEmail, templates or bulk), on the stage's identity only.
        worker.addEnvironment('MAIL_FROM', stage.mail.from);
        emailIdentity.grant(worker, 'ses:SendEmail');
      }
      worker.addEventSource(
        new SqsEventSource(queue, {
          batchSize: definition.batchSize,
          // 0 (jobs) is valid: CDK passes MaximumBatchingWindowInSeconds 0, SQS's default.
          maxBatchingWindow: Duration.seconds(definition.maxBatchingWindowSeconds),
          reportBatchItemFailures: true,
        }),
      );
    }

    // Scheduled: the outbox relay (database, and every queue it publishes to) and the
    // retention purge (database only), each on its EventBridge rate.
    const scheduled: [typeof outboxRelay | typeof retention, FunctionNeeds, Duration][] = [
      [
        outboxRelay,
        { ...databaseOnly, publishes: queueList.map((q) => q.name as QueueName) },
        Duration.seconds(60),
      ],
      [retention, databaseOnly, RETENTION_TIMEOUT],
    ];
    for (const [definition, needs, timeout] of scheduled) {
      const fn = makeFunction(definition.function, needs, { timeout });
      new Rule(this, `${logicalName(definition.function.replace(/^workers\//, ''))}Schedule`, {
        schedule: Schedule.rate(Duration.minutes(definition.scheduleMinutes)),
        targets: [new LambdaFunction(fn)],
      });
    }

    // Migrations: run on create and whenever the function (its bundled migrations) changes,
    // after the database and before any function that uses the schema is created or updated.
    const runtimeFunctions = [...this.functions.values()];
    const migrate = bundledFunction(deployFunctions.migrate, {
      timeout: Duration.minutes(5),
      inVpc: true,
      environment: {
        DATABASE_IAM_AUTH: 'true',
        APP_DATABASE_SECRET_ARN: database.appSecret.secretArn,
      },
    });
    migrate.addEnvironment('DATABASE_URL', database.connect(migrate, ADMIN_USER));
    database.appSecret.grantRead(migrate);
    new Trigger(this, 'MigrateOnDeploy', {
      handler: migrate,
      timeout: Duration.minutes(5),
      executeAfter: [database],
      executeBefore: runtimeFunctions,
    });

    // Signing keys: the first key at creation (rotateImmediatelyOnUpdate), then every N days.
    // The rotation (Secrets Manager grants it the private secret's rotation actions) also
    // publishes the public keys, then waits about 70 s before the new key may sign.
    const rotateKeys = bundledFunction(deployFunctions.rotateSigningKeys, {
      timeout: Duration.minutes(3),
      environment: { JWT_PUBLIC_KEYS_SECRET_ARN: publicKeys.secretArn },
    });
    publicKeys.grantRead(rotateKeys);
    rotateKeys.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:PutSecretValue'],
        resources: [publicKeys.secretArn],
      }),
    );
    signingKeys.addRotationSchedule('Rotation', {
      rotationLambda: rotateKeys,
      automaticallyAfter: Duration.days(stage.signingKeyRotationDays),
      rotateImmediatelyOnUpdate: true,
    });

    const observability = new Observability(this, 'Observability', {
      stage,
      api,
      functions: this.functions,
      deadLetterQueues,
      database: database.instance,
    });

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
    if (domainName) {
      new CfnOutput(this, 'ApiDomainTarget', {
        description: `CNAME/alias target of ${domainName.name}`,
        value: domainName.regionalDomainName,
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: observability.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: observability.dashboardName });
    new CfnOutput(this, 'SigningKeysSecretArn', { value: signingKeys.secretArn });
    new CfnOutput(this, 'PublicKeysSecretArn', { value: publicKeys.secretArn });
    new CfnOutput(this, 'DatabaseProxyEndpoint', { value: database.proxy.endpoint });
    new CfnOutput(this, 'DatabaseAdminSecretArn', { value: database.adminSecret.secretArn });
    new CfnOutput(this, 'RedisSecretArn', { value: cache.secret.secretArn });
    new CfnOutput(this, 'MigrateFunctionName', { value: migrate.functionName });
    new CfnOutput(this, 'FilesBucketName', {
      description: 'The job files bucket (exports/, uploads/); empty it before tearing down dev',
      value: storage.bucket.bucketName,
    });
    new CfnOutput(this, 'MailIdentityName', {
      description:
        'The SES identity the order e-mails are sent from; verify it before they can go out',
      value: emailIdentity.emailIdentityName,
    });
  }
}
