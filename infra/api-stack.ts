import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import {
  type CfnStage,
  CorsHttpMethod,
  HttpApi,
  type HttpMethod,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DOCS_ASSETS } from '../shared/docs/pages.js';
import type { RouteDefinition } from '../shared/http/route.js';
import { outboxRelay, type QueueName, queueList } from '../shared/queue/queues.js';
import { fallbackRoute, routeList } from '../shared/routes.js';
import { Observability } from './observability.js';
import type { StageConfig } from './stages.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** `notes/get` → `NotesGet`: stable logical ids derived from the handler file. */
export function logicalName(file: string): string {
  return file
    .split(/[/-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * Handlers that load `@node-rs/argon2` (through the users service): a native package that
 * esbuild cannot bundle, so it is installed into the bundle for linux-arm64 instead.
 */
const usesArgon2 = (file: string) => file.startsWith('auth/') || file.startsWith('users/');

export interface ApiStackProps extends StackProps {
  stage: StageConfig;
}

/**
 * One stage of the product: an HTTP API with one Lambda per route-table entry (plus the
 * `$default` fallback), the SQS queues of `shared/queue/queues.ts` with DLQs and workers,
 * the outbox relay on a schedule, and the JWT signing key secret.
 * Not yet here (the CDK issue): VPC, RDS + RDS Proxy, the Redis cache, alarms, cdk-nag.
 */
export class ApiStack extends Stack {
  readonly functions = new Map<string, NodejsFunction>();
  readonly alarms: Observability['alarms'] = [];

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { stage } = props;

    const signingKeys = new Secret(this, 'JwtSigningKeys', {
      description: `JWT signing keys (JWK Set) of ${id}. Fill and rotate: npm run keys:rotate -- --secret <arn>`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ keys: [] }),
        generateStringKey: 'unused',
      },
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

    const databaseUrl =
      this.node.tryGetContext('databaseUrl') ?? 'postgres://not-configured.invalid/notes';
    const baseEnvironment: Record<string, string> = {
      STAGE: stage.name,
      DATABASE_URL: databaseUrl,
      DB_POOL_MAX: '1',
      JWT_ISSUER: stage.issuer,
      JWT_AUDIENCE: 'notes-api',
      JWT_SIGNING_KEYS_SECRET_ARN: signingKeys.secretArn,
      POWERTOOLS_SERVICE_NAME: 'notes-api',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    };

    const makeFunction = (
      file: string,
      options: { timeout?: Duration; publishes?: QueueName[] } = {},
    ) => {
      const name = logicalName(file);
      const environment = { ...baseEnvironment };
      for (const queue of options.publishes ?? []) {
        environment[`${queue.toUpperCase()}_QUEUE_URL`] = (queues.get(queue) as Queue).queueUrl;
      }
      const fn = new NodejsFunction(this, `${name}Function`, {
        entry: join(REPO_ROOT, 'functions', `${file}.ts`),
        handler: 'handler',
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        memorySize: stage.memoryMb,
        timeout: options.timeout ?? stage.timeout,
        tracing: Tracing.ACTIVE,
        ...(stage.reservedConcurrency
          ? { reservedConcurrentExecutions: stage.reservedConcurrency }
          : {}),
        logGroup: new LogGroup(this, `${name}Logs`, {
          retention: stage.logRetention,
          removalPolicy: stage.removalPolicy,
        }),
        environment,
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        bundling: {
          format: OutputFormat.ESM,
          target: 'node22',
          minify: true,
          sourceMap: true,
          // ESM bundles of CommonJS dependencies need `require`.
          banner:
            "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
          externalModules: ['@aws-sdk/*'],
          ...(usesArgon2(file)
            ? {
                nodeModules: ['@node-rs/argon2'],
                // Install the linux-arm64 binary of the native package, whatever the build host.
                environment: {
                  npm_config_os: 'linux',
                  npm_config_cpu: 'arm64',
                  npm_config_libc: 'glibc',
                },
              }
            : {}),
          ...(file === 'docs/asset'
            ? {
                commandHooks: {
                  beforeBundling: () => [],
                  beforeInstall: () => [],
                  afterBundling: (inputDir: string, outputDir: string) => [
                    `mkdir -p ${outputDir}/assets`,
                    ...Object.entries(DOCS_ASSETS).map(
                      ([name, asset]) =>
                        `cp ${inputDir}/node_modules/${asset.module} ${outputDir}/assets/${name}`,
                    ),
                  ],
                },
              }
            : {}),
        },
      });
      signingKeys.grantRead(fn);
      for (const queue of options.publishes ?? [])
        (queues.get(queue) as Queue).grantSendMessages(fn);
      this.functions.set(file, fn);
      return fn;
    };

    const fallback = makeFunction(fallbackRoute.function);
    const api = new HttpApi(this, 'HttpApi', {
      apiName: `notes-api-${stage.name}`,
      defaultIntegration: new HttpLambdaIntegration('FallbackIntegration', fallback),
      corsPreflight: {
        allowOrigins: stage.corsOrigins,
        allowMethods: [CorsHttpMethod.ANY],
        allowHeaders: ['authorization', 'content-type', 'if-match', 'x-request-id'],
        exposeHeaders: [
          'etag',
          'location',
          'x-request-id',
          'x-cache',
          'retry-after',
          'ratelimit-limit',
          'ratelimit-remaining',
          'ratelimit-reset',
          'ratelimit-policy',
        ],
        maxAge: Duration.hours(1),
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

    for (const route of routeList as RouteDefinition[]) {
      const fn = makeFunction(
        route.function,
        route.publishes ? { publishes: route.publishes } : {},
      );
      api.addRoutes({
        path: route.path,
        methods: [route.method as HttpMethod],
        integration: new HttpLambdaIntegration(`${logicalName(route.function)}Integration`, fn),
      });
    }

    for (const definition of queueList) {
      const worker = makeFunction(definition.worker, {
        timeout: Duration.seconds(definition.workerTimeoutSeconds),
      });
      worker.addEventSource(
        new SqsEventSource(queues.get(definition.name as QueueName) as Queue, {
          batchSize: definition.batchSize,
          maxBatchingWindow: Duration.seconds(definition.maxBatchingWindowSeconds),
          reportBatchItemFailures: true,
        }),
      );
    }

    const relay = makeFunction(outboxRelay.function, {
      timeout: Duration.seconds(60),
      publishes: queueList.map((q) => q.name as QueueName),
    });
    new Rule(this, 'OutboxRelaySchedule', {
      schedule: Schedule.rate(Duration.minutes(outboxRelay.scheduleMinutes)),
      targets: [new LambdaFunction(relay)],
    });

    const observability = new Observability(this, 'Observability', {
      stage,
      api,
      functions: this.functions,
      deadLetterQueues,
    });
    this.alarms.push(...observability.alarms);

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
    new CfnOutput(this, 'AlarmTopicArn', { value: observability.topic.topicArn });
    new CfnOutput(this, 'SigningKeysSecretArn', { value: signingKeys.secretArn });
  }
}
