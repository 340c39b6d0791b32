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
  },
};

/** The stage named by `-c stage=<name>` (default `dev`). Errors: unknown stage. */
export function stageConfig(name: string | undefined): StageConfig {
  const stage = stages[name ?? 'dev'];
  if (!stage) throw new Error(`Unknown stage "${name}". Known: ${Object.keys(stages).join(', ')}.`);
  return stage;
}
