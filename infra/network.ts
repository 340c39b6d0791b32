import { RemovalPolicy } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from './stages.js';

/**
 * The stage's VPC:
 * - `public` subnets hold only the NAT gateways;
 * - `app` subnets (private, egress through NAT) hold the Lambdas, the Redis bridge tasks and
 *   the interface endpoints;
 * - `data` subnets (isolated, no route out) hold RDS, RDS Proxy and ElastiCache.
 *
 * Interface endpoints for SQS and Secrets Manager keep the calls every request path makes
 * (SQS after an archive or restore, Secrets Manager on every cold start) inside the VPC:
 * they do not depend on the NAT gateway (an AZ's NAT failing does not fail those calls),
 * the traffic never crosses the internet, and it costs $0.01/GB instead of NAT's $0.045/GB.
 * An S3 gateway endpoint (free, no hourly or per-GB charge) carries the jobs worker's reads and
 * writes of the files bucket, which can be tens of MB per job, past the NAT gateway too.
 * The NAT gateway is still needed for what has no endpoint: a managed Upstash database
 * (`cache.mode: upstash`) and the bridge's container image from Docker Hub (`elasticache`).
 * Rejected traffic is logged (VPC flow logs) for security investigations.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  /** Security group of every Lambda in the VPC (no ingress; egress anywhere). */
  readonly functionSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: { stage: StageConfig }) {
    super(scope, id);
    const { stage } = props;
    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: stage.network.maxAzs,
      natGateways: stage.network.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'data', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        rejected: {
          trafficType: FlowLogTrafficType.REJECT,
          destination: FlowLogDestination.toCloudWatchLogs(
            new LogGroup(this, 'FlowLogs', {
              retention: stage.logRetention,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
        },
      },
    });
    for (const [name, service] of [
      ['Sqs', InterfaceVpcEndpointAwsService.SQS],
      ['SecretsManager', InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
    ] as const) {
      this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service,
        subnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
        privateDnsEnabled: true,
      });
    }
    this.vpc.addGatewayEndpoint('S3Endpoint', {
      service: GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnetType: SubnetType.PRIVATE_WITH_EGRESS }],
    });
    this.functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'Lambda functions of the API and workers',
      allowAllOutbound: true,
    });
  }
}
