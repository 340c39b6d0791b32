import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ApiStack, logicalName } from '../../infra/api-stack.js';
import { stageConfig } from '../../infra/stages.js';
import { outboxRelay, queueList } from '../../shared/queue/queues.js';
import { fallbackRoute, routeList } from '../../shared/routes.js';

/** Synthesises a stage without running esbuild (bundling is what `npm run synth` checks). */
function synth(stageName: string) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ApiStack(app, `NotesApi-${stageName}`, { stage: stageConfig(stageName) });
  return { stack, template: Template.fromStack(stack) };
}

/** The logical id CDK gave a construct of the stack. */
const logicalId = (stack: ApiStack, file: string) =>
  stack.getLogicalId(stack.functions.get(file)?.node.defaultChild as never);

describe.each(['dev', 'prod'])('CDK stack, stage %s', (stageName) => {
  const { stack, template } = synth(stageName);
  const handlers = [
    ...routeList.map((r) => r.function),
    fallbackRoute.function,
    ...queueList.map((q) => q.worker),
    outboxRelay.function,
  ];

  it('has one Node 22 arm64 function per route-table entry, the fallback, each worker and the relay', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler' },
    });
    expect(Object.keys(functions)).toHaveLength(handlers.length);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
    for (const file of handlers) expect(stack.functions.get(file), file).toBeDefined();
  });

  it('has one HTTP API route per entry, wired to that entry’s function, and $default to the fallback', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    expect(Object.keys(routes)).toHaveLength(routeList.length + 1);
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    const targetOf = (routeKey: string) => {
      const route = Object.values(routes).find((r) => r.Properties.RouteKey === routeKey);
      expect(route, routeKey).toBeDefined();
      const integrationId = route?.Properties.Target['Fn::Join'][1][1].Ref as string;
      return JSON.stringify(integrations[integrationId]?.Properties.IntegrationUri);
    };
    for (const route of routeList) {
      expect(targetOf(`${route.method} ${route.path}`)).toContain(logicalId(stack, route.function));
    }
    expect(targetOf('$default')).toContain(logicalId(stack, fallbackRoute.function));
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
        FunctionName: { Ref: logicalId(stack, queue.worker) },
        BatchSize: queue.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });

  it('runs the outbox relay on a schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${outboxRelay.scheduleMinutes} minute)`,
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(stack, outboxRelay.function), 'Arn'] },
        }),
      ],
    });
  });

  it('lets only publishing functions send to SQS, and reads the signing keys from Secrets Manager', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const senders = Object.values(policies)
      .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('sqs:SendMessage'))
      .flatMap((p) => p.Properties.Roles.map((r: { Ref: string }) => r.Ref));
    const publishers = [
      ...routeList.filter((r) => r.publishes?.length).map((r) => r.function),
      outboxRelay.function,
    ];
    expect(senders).toHaveLength(publishers.length);
    for (const policy of Object.values(policies)) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        expect(statement.Action, JSON.stringify(statement)).not.toBe('*');
      }
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          JWT_SIGNING_KEYS_SECRET_ARN: Match.anyValue(),
          DB_POOL_MAX: '1',
        }),
      },
    });
  });

  it('alarms to one SNS topic: API 5xx rate and p99, errors and throttles of every function, DLQ depth', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(2 + 2 * handlers.length + queueList.length);
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    for (const queue of queueList) {
      expect(
        alarms.some(
          (a) =>
            a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
            JSON.stringify(a.Properties.Dimensions).includes(`${logicalName(queue.name)}Dlq`),
        ),
        queue.name,
      ).toBe(true);
    }
    expect(alarms.filter((a) => a.Properties.MetricName === 'Throttles')).toHaveLength(
      handlers.length,
    );
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::SNS::Subscription', stageConfig(stageName).alarmEmail ? 1 : 0);
  });

  it('writes API access logs as JSON lines with the request id', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('context.requestId'),
      },
    });
  });

  it(`names the stack after the stage (${stageName})`, () => {
    expect(stack.stackName).toBe(`NotesApi-${stageName}`);
    expect(logicalName('notes/get')).toBe('NotesGet');
  });
});

describe('sam local invoke metadata', () => {
  it('every function keeps the asset metadata SAM reads (aws:asset:path, aws:asset:property: Code)', () => {
    // The CDK CLI turns asset metadata on; SAM uses it to find each function's bundle in cdk.out.
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-asset-metadata': true },
    });
    const stack = new ApiStack(app, 'NotesApi-dev', { stage: stageConfig('dev') });
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Handler: 'index.handler' },
    });
    expect(Object.keys(functions).length).toBeGreaterThan(routeList.length);
    for (const [id, fn] of Object.entries(functions)) {
      // With bundling skipped here the path is a placeholder; `npm run synth` gives `asset.<hash>`.
      expect(fn.Metadata?.['aws:asset:path'], id).toEqual(expect.any(String));
      expect(fn.Metadata?.['aws:asset:property'], id).toBe('Code');
    }
  });
});
