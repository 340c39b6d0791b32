import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** What differs between stages. Account and region come from the CDK environment. */
export interface StageConfig {
  name: string;
  /** Memory of each API function, MB (CPU scales with it). */
  memoryMb: number;
  /** Timeout of each API function (API Gateway waits at most 30 s). */
  timeout: Duration;
  logRetention: RetentionDays;
  /** What happens to stateful resources (secrets, queues) when the stack is deleted. */
  removalPolicy: RemovalPolicy;
  /** Reserved concurrency per API function; undefined = the account's shared pool. */
  reservedConcurrency?: number;
  /** HTTP API default throttling (requests per second, burst). */
  throttle: { rateLimit: number; burstLimit: number };
  /** Browser origins allowed by CORS. */
  corsOrigins: string[];
  /** `iss` of access tokens. */
  issuer: string;
  /** Where alarms are e-mailed (the SNS topic gets the subscription); none: topic only. */
  alarmEmail?: string;
  /** API 5xx share of requests (%) over 5 minutes that raises the alarm. */
  serverErrorPercent: number;
  /** API p99 latency (ms) over 5 minutes that raises the alarm. */
  p99LatencyMs: number;
}

export const stages: Record<string, StageConfig> = {
  dev: {
    name: 'dev',
    memoryMb: 512,
    timeout: Duration.seconds(10),
    logRetention: RetentionDays.TWO_WEEKS,
    removalPolicy: RemovalPolicy.DESTROY,
    throttle: { rateLimit: 50, burstLimit: 100 },
    corsOrigins: ['http://localhost:3000'],
    issuer: 'https://dev.notes-api.example.com',
    serverErrorPercent: 5,
    p99LatencyMs: 2000,
  },
  prod: {
    name: 'prod',
    memoryMb: 1024,
    timeout: Duration.seconds(10),
    logRetention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
    reservedConcurrency: 50,
    throttle: { rateLimit: 500, burstLimit: 1000 },
    corsOrigins: ['https://app.notes-api.example.com'],
    issuer: 'https://notes-api.example.com',
    alarmEmail: 'oncall@notes-api.example.com',
    serverErrorPercent: 1,
    p99LatencyMs: 1000,
  },
};

/** The stage named by `-c stage=<name>` (default `dev`). Errors: unknown stage. */
export function stageConfig(name: string | undefined): StageConfig {
  const stage = stages[name ?? 'dev'];
  if (!stage) throw new Error(`Unknown stage "${name}". Known: ${Object.keys(stages).join(', ')}.`);
  return stage;
}
