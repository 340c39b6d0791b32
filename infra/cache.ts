import { Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import { type IConnectable, Port, SecurityGroup, SubnetType, type Vpc } from 'aws-cdk-lib/aws-ec2';
import {
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  Secret as EcsSecret,
  LogDrivers,
} from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancedFargateService } from 'aws-cdk-lib/aws-ecs-patterns';
import { CfnServerlessCache } from 'aws-cdk-lib/aws-elasticache';
import {
  ApplicationLoadBalancer,
  ApplicationProtocol,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { StageConfig } from './stages.js';

/** The Upstash-REST bridge in front of ElastiCache: the public SRH image, pinned by digest. */
export const BRIDGE_IMAGE =
  'hiett/serverless-redis-http:0.0.10@sha256:65128347949bca511e448fd7238780d624573d74c22b79155a7563db19e9b678';

/**
 * The Redis cache of one stage, reachable over the Upstash REST protocol (`shared/cache/redis-client.ts`). Either
 * way the functions get one secret, `{"url": …, "token": …}`, named by
 * `REDIS_REST_SECRET_ARN`:
 * - `upstash`: the stack creates the secret with empty values; the operator creates an
 *   Upstash database and stores its REST URL and token there (README § Deploy). Until then
 *   the functions run in the degraded mode (cache bypassed, each limit's fail mode).
 * - `elasticache`: ElastiCache Serverless for Valkey 8 in the isolated subnets (encrypted
 *   at rest, TLS only), and `serverless-redis-http` on Fargate (one task per AZ) behind an
 *   internal Application Load Balancer, which only the functions' security group may reach.
 *   The bridge's bearer token is generated into the secret; the URL is the balancer's.
 */
export class Cache extends Construct {
  /** `{"url", "token"}` of the Upstash REST endpoint. */
  readonly secret: ISecret;
  /**
   * Whether the endpoint is reachable only from inside the VPC (`elasticache`: the bridge's
   * internal balancer), so a function that uses Redis must be placed there; `upstash` is
   * reached over the internet, from anywhere.
   */
  readonly inVpc: boolean;
  private readonly loadBalancer?: ApplicationLoadBalancer;

  constructor(scope: Construct, id: string, props: { stage: StageConfig; vpc: Vpc }) {
    super(scope, id);
    const { stage, vpc } = props;
    this.inVpc = stage.cache.mode === 'elasticache';

    if (stage.cache.mode === 'upstash') {
      this.secret = new Secret(this, 'UpstashSecret', {
        description: `Upstash REST url and token of notes-api ${stage.name}: fill after creating the database`,
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ url: '', token: '' })),
        removalPolicy: stage.removalPolicy,
      });
      return;
    }

    const cacheSecurityGroup = new SecurityGroup(this, 'CacheSecurityGroup', {
      vpc,
      description: 'ElastiCache Serverless: only the Redis bridge',
      allowAllOutbound: false,
    });
    const cache = new CfnServerlessCache(this, 'Valkey', {
      serverlessCacheName: `notes-api-${stage.name}`,
      description: `Cache and rate limits of notes-api ${stage.name}`,
      engine: 'valkey',
      majorEngineVersion: '8',
      subnetIds: vpc.selectSubnets({ subnetType: SubnetType.PRIVATE_ISOLATED }).subnetIds,
      securityGroupIds: [cacheSecurityGroup.securityGroupId],
      cacheUsageLimits: {
        dataStorage: { maximum: stage.cache.maxDataStorageGb, unit: 'GB' },
        ecpuPerSecond: { maximum: stage.cache.maxEcpuPerSecond },
      },
    });
    cache.applyRemovalPolicy(RemovalPolicy.DESTROY); // a cache: nothing to keep

    this.loadBalancer = new ApplicationLoadBalancer(this, 'BridgeLoadBalancer', {
      vpc,
      internetFacing: false,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      dropInvalidHeaderFields: true,
    });
    this.secret = new Secret(this, 'BridgeSecret', {
      description: `Upstash REST url and token of the Redis bridge of notes-api ${stage.name}`,
      generateSecretString: {
        secretStringTemplate: Stack.of(this).toJsonString({
          url: `http://${this.loadBalancer.loadBalancerDnsName}`,
        }),
        generateStringKey: 'token',
        excludePunctuation: true,
        passwordLength: 48,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const bridge = new ApplicationLoadBalancedFargateService(this, 'Bridge', {
      cluster: new Cluster(this, 'Cluster', {
        vpc,
        containerInsightsV2: ContainerInsights.ENABLED,
      }),
      loadBalancer: this.loadBalancer,
      publicLoadBalancer: false,
      openListener: false,
      protocol: ApplicationProtocol.HTTP,
      listenerPort: 80,
      desiredCount: stage.cache.bridgeTasks,
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: { cpuArchitecture: CpuArchitecture.X86_64 },
      taskSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      taskImageOptions: {
        image: ContainerImage.fromRegistry(BRIDGE_IMAGE),
        containerPort: 80,
        environment: {
          SRH_MODE: 'env',
          SRH_CONNECTION_STRING: `rediss://${cache.attrEndpointAddress}:${cache.attrEndpointPort}`,
        },
        secrets: { SRH_TOKEN: EcsSecret.fromSecretsManager(this.secret, 'token') },
        logDriver: LogDrivers.awsLogs({
          streamPrefix: 'bridge',
          logGroup: new LogGroup(this, 'BridgeLogs', {
            retention: stage.logRetention,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
        }),
      },
    });
    bridge.targetGroup.configureHealthCheck({
      path: '/',
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
    });
    cacheSecurityGroup.connections.allowFrom(
      bridge.service,
      Port.tcp(6379),
      'Redis bridge to Valkey (TLS)',
    );
  }

  /** Lets `client` reach the cache's REST endpoint (the bridge's balancer; Upstash: via NAT). */
  allowFrom(client: IConnectable): void {
    this.loadBalancer?.connections.allowFrom(client, Port.tcp(80), 'Functions to the Redis bridge');
  }
}
