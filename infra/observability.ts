import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  type Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { DatabaseInstance } from 'aws-cdk-lib/aws-rds';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MetricName } from '../shared/observability.js';
import type { StageConfig } from './stages.js';

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The CloudWatch namespace of a stage's application metrics: the functions'
 * `POWERTOOLS_METRICS_NAMESPACE` (set by the stack) and what the dashboard reads.
 */
export function metricsNamespace(stageName: string): string {
  return `notes-api/${stageName}`;
}

/**
 * Every series of the application metric `name` in `namespace` whose dimensions are exactly
 * `dimensions` (Powertools adds `service` to each), one line per dimension value: a
 * CloudWatch `SEARCH` expression (CloudWatch docs, "CloudWatch search expression syntax"), so
 * a route added to the table shows up without a change here.
 */
function searchMetric(
  namespace: string,
  name: MetricName,
  dimensions: string[],
  statistic: string,
): string {
  const schema = [`"${namespace}"`, ...dimensions, 'service'].join(',');
  return `SEARCH('{${schema}} MetricName="${name}"', '${statistic}', ${FIVE_MINUTES.toSeconds()})`;
}

/**
 * Alarms to one SNS topic, and a dashboard: API 5xx rate and p99 latency; errors and
 * throttles of every function; any message in a DLQ; the application's EMF metrics
 * (latency p50/p99 by route, 4xx/5xx, cold starts, cache hit ratio, rate-limited requests,
 * from `metricsNamespace(stage)`); the database's CPU, connections and free storage.
 */
export class Observability extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboardName: string;

  constructor(
    scope: Construct,
    id: string,
    props: {
      stage: StageConfig;
      api: HttpApi;
      functions: Map<string, IFunction>;
      deadLetterQueues: Map<string, Queue>;
      database: DatabaseInstance;
    },
  ) {
    super(scope, id);
    const { stage, api } = props;
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: `notes-api ${stage.name} alarms`,
      enforceSSL: true,
    });
    if (stage.alarmEmail) this.topic.addSubscription(new EmailSubscription(stage.alarmEmail));
    const action = new SnsAction(this.topic);
    const alarm = (create: () => Alarm) => {
      const created = create();
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    const serverErrorRate = new MathExpression({
      expression: '100 * errors / MAX([requests, 1])',
      usingMetrics: {
        errors: api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        requests: api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      label: '5xx %',
      period: FIVE_MINUTES,
    });
    alarm(() =>
      serverErrorRate.createAlarm(this, 'Api5xxRate', {
        alarmDescription: `More than ${stage.serverErrorPercent}% of requests answered 5xx over 5 minutes.`,
        threshold: stage.serverErrorPercent,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    const latency = api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' });
    alarm(() =>
      latency.createAlarm(this, 'ApiP99Latency', {
        alarmDescription: `p99 latency above ${stage.p99LatencyMs} ms for 3 of 5-minute periods.`,
        threshold: stage.p99LatencyMs,
        evaluationPeriods: 3,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    // One alarm per function for both its uncaught errors and its throttles (metric math):
    // half the alarms of one each, which keeps the stack under CloudFormation's 500
    // resources while every function still has its own alarm (its description says which).
    for (const [file, fn] of props.functions) {
      const name = file.replace(/\//g, '-');
      const failures = new MathExpression({
        // FILL: a period with errors but no Throttles data point (or the reverse) still sums.
        expression: 'FILL(errors, 0) + FILL(throttles, 0)',
        usingMetrics: {
          errors: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
          throttles: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        },
        label: `${file} errors + throttles`,
        period: FIVE_MINUTES,
      });
      alarm(() =>
        failures.createAlarm(this, `${name}-failures`, {
          alarmDescription: `${file} threw errors (uncaught: the stack maps handled ones to responses) or was throttled (concurrency limits).`,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    for (const [name, dlq] of props.deadLetterQueues) {
      alarm(() =>
        dlq
          .metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Max',
          })
          .createAlarm(this, `${name}-dlq-depth`, {
            alarmDescription: `Messages in the ${name} DLQ: inspect and redrive them.`,
            threshold: 0,
            evaluationPeriods: 1,
            comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
      );
    }

    const { database } = props;
    const cpu = database.metricCPUUtilization({ period: FIVE_MINUTES, statistic: 'Average' });
    alarm(() =>
      cpu.createAlarm(this, 'DatabaseCpu', {
        alarmDescription: 'Database CPU above 80% for 15 minutes.',
        threshold: 80,
        evaluationPeriods: 3,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    const connections = database.metricDatabaseConnections({
      period: FIVE_MINUTES,
      statistic: 'Maximum',
    });
    alarm(() =>
      connections.createAlarm(this, 'DatabaseConnections', {
        alarmDescription: `More than ${stage.database.connectionsAlarm} database connections.`,
        threshold: stage.database.connectionsAlarm,
        evaluationPeriods: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    const freeStorage = database.metricFreeStorageSpace({
      period: FIVE_MINUTES,
      statistic: 'Minimum',
    });
    // 10% of the allocated storage (autoscaling adds more, up to the stage's ceiling).
    const lowStorageBytes = stage.database.allocatedStorageGb * 0.1 * 1024 ** 3;
    alarm(() =>
      freeStorage.createAlarm(this, 'DatabaseFreeStorage', {
        alarmDescription: `Less than ${stage.database.allocatedStorageGb * 0.1} GB of database storage free.`,
        threshold: lowStorageBytes,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.BREACHING,
      }),
    );

    const namespace = metricsNamespace(stage.name);
    const byRoute = (name: MetricName, statistic: string, label: string) =>
      new MathExpression({
        expression: searchMetric(namespace, name, ['route'], statistic),
        label,
        period: FIVE_MINUTES,
      });
    const total = (name: MetricName, label: string) =>
      new MathExpression({
        expression: `SUM(${searchMetric(namespace, name, ['route'], 'Sum')})`,
        label,
        period: FIVE_MINUTES,
      });
    const cacheHitRatio = new MathExpression({
      // A count with no data in a period (no bypass while Redis is up) counts as 0.
      expression:
        '100 * FILL(hits, 0) / MAX([FILL(hits, 0) + FILL(misses, 0) + FILL(bypasses, 0), 1])',
      usingMetrics: {
        hits: total(MetricName.cacheHits, 'hits'),
        misses: total(MetricName.cacheMisses, 'misses'),
        bypasses: total(MetricName.cacheBypasses, 'bypasses'),
      },
      label: 'cache hit %',
      period: FIVE_MINUTES,
    });
    const coldStarts = new MathExpression({
      expression: searchMetric(namespace, MetricName.coldStart, ['function_name'], 'Sum'),
      label: '',
      period: FIVE_MINUTES,
    });

    this.dashboardName = `notes-api-${stage.name}`;
    new Dashboard(this, 'Dashboard', {
      dashboardName: this.dashboardName,
      widgets: [
        [
          new GraphWidget({ title: 'Requests', left: [api.metricCount({ period: FIVE_MINUTES })] }),
          new GraphWidget({ title: '5xx %', left: [serverErrorRate] }),
          new GraphWidget({ title: 'Latency p99 (ms)', left: [latency] }),
        ],
        [
          new GraphWidget({
            title: 'Function errors',
            left: [...props.functions.values()].map((fn) =>
              fn.metricErrors({ period: FIVE_MINUTES }),
            ),
          }),
          new GraphWidget({
            title: 'DLQ depth',
            left: [...props.deadLetterQueues.values()].map((q) =>
              q.metricApproximateNumberOfMessagesVisible(),
            ),
          }),
        ],
        [
          new GraphWidget({
            title: 'Latency p50 by route (ms)',
            left: [byRoute(MetricName.latency, 'p50', '')],
          }),
          new GraphWidget({
            title: 'Latency p99 by route (ms)',
            left: [byRoute(MetricName.latency, 'p99', '')],
          }),
        ],
        [
          new GraphWidget({
            title: '4xx and 5xx responses',
            left: [total(MetricName.clientErrors, '4xx'), total(MetricName.serverErrors, '5xx')],
          }),
          new GraphWidget({ title: 'Cold starts by function', left: [coldStarts] }),
          new GraphWidget({ title: 'Cache hit ratio (%)', left: [cacheHitRatio] }),
          new GraphWidget({
            title: 'Rate-limited requests (429) by route',
            left: [byRoute(MetricName.rateLimited, 'Sum', '')],
          }),
        ],
        [
          new GraphWidget({ title: 'Database CPU %', left: [cpu] }),
          new GraphWidget({ title: 'Database connections', left: [connections] }),
          new GraphWidget({ title: 'Database free storage (bytes)', left: [freeStorage] }),
        ],
      ],
    });
  }
}
