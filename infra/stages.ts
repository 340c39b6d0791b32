import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * Where the Redis cache lives (DESIGN.md § Redis):
 * - `upstash`: a managed Upstash database; its REST URL and token live in a Secrets Manager
 *   secret the stack creates and the operator fills. Functions reach it through the NAT.
 * - `elasticache`: ElastiCache Serverless (Valkey) in the VPC, with the Upstash-REST bridge
 *   (`serverless-redis-http`) on ECS Fargate behind an internal load balancer.
 */
export type CacheMode = 'upstash' | 'elasticache';

/**
 * The stage's SES identity, which the stack creates (`EmailIdentity`): a domain (SES gives
 * three DKIM CNAME records to publish) or a single address (SES e-mails it a verification
 * link). Until it is verified, SES refuses to send from it.
 */
export type MailIdentity = { domain: string } | { email: string };

/** What differs between stages. */
export interface StageConfig {
  name: string;
  /**
   * Target account and region. Unset: the CDK CLI's (`CDK_DEFAULT_ACCOUNT/REGION`), and
   * when those are unset too the stack is environment-agnostic (offline synth, no lookups).
   */
  account?: string;
  region?: string;
  /** Memory of each API function, MB (CPU scales with it). */
  memoryMb: number;
  /**
   * Timeout of each HTTP function: 10–29 s. Well above the per-request deadline of the
   * database work (`REQUEST_DEADLINE_MS`, 2 s by default), so a stalled dependency ends in
   * the function's own 503 with `Retry-After`, never in a Lambda timeout; below API Gateway's
   * 30 s. `stageConfig` refuses anything else.
   */
  timeout: Duration;
  logRetention: RetentionDays;
  /** What happens to stateful resources (database, secrets, queues) on stack deletion. */
  removalPolicy: RemovalPolicy;
  /**
   * Concurrency reserved for the stack's request and worker functions together, shared
   * evenly (each gets ⌊pool ÷ functions⌋, so adding a route never breaks the quota);
   * undefined = the account's shared pool. It must leave 100 unreserved in the account
   * (Lambda quota rule), which the synth tests check against `accountConcurrency`.
   */
  reservedConcurrencyPool?: number;
  /** The account's Lambda concurrency quota in the region (default quota: 1000). */
  accountConcurrency: number;
  /** HTTP API default throttling (requests per second, burst). */
  throttle: { rateLimit: number; burstLimit: number };
  /** Browser origins allowed by CORS. */
  corsOrigins: string[];
  /** Custom domain of the API; its ACM certificate must be in the stack's region. */
  customDomain?: { domainName: string; certificateArn: string };
  /** `iss` of access tokens. */
  issuer: string;
  network: {
    /** Availability zones used (2 is the minimum for RDS subnet groups and Multi-AZ). */
    maxAzs: number;
    /** NAT gateways: 1 (cheap, one AZ's NAT is a single point of egress) or one per AZ. */
    natGateways: number;
  };
  database: {
    /** RDS instance type, e.g. `t4g.micro` (Graviton burstable). */
    instanceType: string;
    allocatedStorageGb: number;
    /** Storage autoscaling ceiling. */
    maxAllocatedStorageGb: number;
    /** Automated backups kept this many days (1–35). */
    backupRetentionDays: number;
    multiAz: boolean;
    deletionProtection: boolean;
    /** Alarm when client connections to the instance exceed this. */
    connectionsAlarm: number;
  };
  cache: {
    mode: CacheMode;
    /** `elasticache`: Fargate tasks of the bridge (one per AZ for availability). */
    bridgeTasks: number;
    /** `elasticache`: ElastiCache Serverless ceilings (cost guard). */
    maxDataStorageGb: number;
    maxEcpuPerSecond: number;
  };
  /** Order e-mails (functions/workers/email.ts), sent through SES. */
  mail: {
    identity: MailIdentity;
    /** The sender (`MAIL_FROM`): the identity's address, or an address of its domain. */
    from: string;
  };
  /** Days between automatic rotations of the JWT signing keys. */
  signingKeyRotationDays: number;
  /** Where alarms are e-mailed (the SNS topic gets the subscription); none: topic only. */
  alarmEmail?: string;
  /** API 5xx share of requests (%) over 5 minutes that raises the alarm. */
  serverErrorPercent: number;
  /** API p99 latency (ms) over 5 minutes that raises the alarm. */
  p99LatencyMs: number;
}

/** Account and region of a stage: `CDK_DEPLOY_*` first, then what the CDK CLI resolved. */
function environment(): Pick<StageConfig, 'account' | 'region'> {
  const account = process.env.CDK_DEPLOY_ACCOUNT ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEPLOY_REGION ?? process.env.CDK_DEFAULT_REGION;
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

export const stages: Record<string, StageConfig> = {
  dev: {
    name: 'dev',
    ...environment(),
    memoryMb: 512,
    timeout: Duration.seconds(10),
    logRetention: RetentionDays.TWO_WEEKS,
    removalPolicy: RemovalPolicy.DESTROY,
    accountConcurrency: 1000,
    throttle: { rateLimit: 50, burstLimit: 100 },
    corsOrigins: ['http://localhost:3000'],
    issuer: 'https://dev.notes-api.example.com',
    network: { maxAzs: 2, natGateways: 1 },
    database: {
      instanceType: 't4g.micro',
      allocatedStorageGb: 20,
      maxAllocatedStorageGb: 50,
      backupRetentionDays: 1,
      multiAz: false,
      deletionProtection: false,
      connectionsAlarm: 60,
    },
    cache: { mode: 'upstash', bridgeTasks: 1, maxDataStorageGb: 1, maxEcpuPerSecond: 1000 },
    // One address: verified by clicking the link SES sends it; no DNS needed for dev.
    mail: {
      identity: { email: 'orders-dev@notes-api.example.com' },
      from: 'orders-dev@notes-api.example.com',
    },
    signingKeyRotationDays: 30,
    serverErrorPercent: 5,
    p99LatencyMs: 2000,
  },
  prod: {
    name: 'prod',
    ...environment(),
    memoryMb: 1024,
    timeout: Duration.seconds(10),
    logRetention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
    reservedConcurrencyPool: 800,
    accountConcurrency: 1000,
    throttle: { rateLimit: 500, burstLimit: 1000 },
    corsOrigins: ['https://app.notes-api.example.com'],
    issuer: 'https://notes-api.example.com',
    network: { maxAzs: 2, natGateways: 2 },
    database: {
      instanceType: 'm7g.large',
      allocatedStorageGb: 100,
      maxAllocatedStorageGb: 500,
      backupRetentionDays: 14,
      multiAz: true,
      deletionProtection: true,
      connectionsAlarm: 600,
    },
    cache: { mode: 'elasticache', bridgeTasks: 2, maxDataStorageGb: 5, maxEcpuPerSecond: 5000 },
    // The domain, signed with Easy DKIM (publish its three CNAME records).
    mail: { identity: { domain: 'notes-api.example.com' }, from: 'orders@notes-api.example.com' },
    signingKeyRotationDays: 30,
    alarmEmail: 'oncall@notes-api.example.com',
    serverErrorPercent: 1,
    p99LatencyMs: 1000,
  },
};

/**
 * The stage named by `-c stage=<name>` (default `dev`), with an optional custom domain from
 * `-c domainName=… -c certificateArn=…`. Errors: unknown stage, a function timeout outside
 * 10–29 s, half a custom domain, a mail sender outside the stage's SES identity.
 */
export function stageConfig(
  name: string | undefined,
  context: { domainName?: string; certificateArn?: string } = {},
): StageConfig {
  const stage = stages[name ?? 'dev'];
  if (!stage) throw new Error(`Unknown stage "${name}". Known: ${Object.keys(stages).join(', ')}.`);
  const timeout = stage.timeout.toSeconds();
  if (timeout < 10 || timeout >= 30) {
    throw new Error(`Stage ${stage.name}: the function timeout must be 10–29 s, not ${timeout} s.`);
  }
  const { identity, from } = stage.mail;
  const sender = from.toLowerCase();
  if (
    'email' in identity
      ? sender !== identity.email.toLowerCase()
      : !sender.endsWith(`@${identity.domain.toLowerCase()}`)
  ) {
    throw new Error(
      `Stage ${stage.name}: the mail sender ${from} is not an address of its SES identity ${'email' in identity ? identity.email : identity.domain}.`,
    );
  }
  const { domainName, certificateArn } = context;
  if (!domainName !== !certificateArn) {
    throw new Error('A custom domain needs both -c domainName=… and -c certificateArn=….');
  }
  return domainName && certificateArn
    ? { ...stage, customDomain: { domainName, certificateArn } }
    : stage;
}
