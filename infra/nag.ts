import { type App, type CfnResource, Names, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { ApiStack } from './api-stack.js';
import { FILE_PREFIXES } from './storage.js';

const LAMBDA_BASIC =
  'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
const LAMBDA_VPC =
  'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole';

/**
 * Runs cdk-nag's AwsSolutions rules on every synth of `app` (a finding fails the synth),
 * with the findings `stack` accepts acknowledged.
 */
export function checkWithNag(app: App, stack: ApiStack): void {
  acknowledgeNagFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/**
 * The cdk-nag (AwsSolutions) findings this product accepts, each with its reason. Anything
 * not listed here fails `cdk synth`. Scopes are as narrow as the finding: a construct when
 * one resource is concerned, the stack when every function shares the cause.
 */
function acknowledgeNagFindings(stack: ApiStack): void {
  const { stage } = stack;
  const ack = (scope: IConstruct | undefined, id: string, reason: string) => {
    if (scope) Validations.of(scope).acknowledge({ id: `AwsSolutions-${id}`, reason });
  };
  const find = (path: string) =>
    path.split('/').reduce<IConstruct | undefined>((c, part) => c?.node.tryFindChild(part), stack);

  // Every function.
  ack(
    stack,
    `IAM4[${LAMBDA_BASIC}]`,
    'AWSLambdaBasicExecutionRole is the AWS-documented minimum for a function to write its logs.',
  );
  ack(
    stack,
    `IAM4[${LAMBDA_VPC}]`,
    'AWSLambdaVPCAccessExecutionRole lets Lambda manage the ENIs of functions in the VPC (AWS docs).',
  );
  ack(
    stack,
    'IAM5[Resource::*]',
    'Only actions that support no resource-level permission use "*": X-Ray PutTraceSegments/PutTelemetryRecords (tracing), secretsmanager:GetRandomPassword (key rotation) and the log-retention helper CDK adds for the RDS log group; tests/infra/synth.test.ts asserts no other action has "*".',
  );
  ack(
    stack,
    'L1',
    'DESIGN.md fixes the runtime to Node.js 22 LTS (nodejs22.x), which AWS supports until 2027-04.',
  );
  ack(
    stack,
    'APIG4',
    'Authorization happens in every function: the shared middleware stack verifies the JWT (pinned algorithm, iss, aud, typ, revocation) and checks the route table role; public routes are public by contract (API.md).',
  );

  // Files bucket: object-level grants end in the prefix's `*` (S3 object ARNs have no other
  // way to name "the objects under a prefix"). Acknowledged on each function that declares
  // the prefix, for that prefix only. In a nested stack the bucket's ARN is the parameter CDK
  // names `referenceto<unique id of the bucket>Arn`.
  const bucketArn = `<referenceto${Names.nodeUniqueId((stack.storage.bucket.node.defaultChild as CfnResource).node)}Arn>`;
  for (const [file, accesses] of stack.fileAccess) {
    for (const prefix of new Set(accesses.map((a) => FILE_PREFIXES[a.prefix].prefix))) {
      const actions = accesses
        .filter((a) => FILE_PREFIXES[a.prefix].prefix === prefix)
        .map((a) =>
          a.access === 'read' ? 's3:GetObject' : 's3:PutObject and s3:AbortMultipartUpload',
        )
        .join(', ');
      ack(
        stack.functions.get(file),
        `IAM5[Resource::${bucketArn}/${prefix}*]`,
        `${file} declares ${prefix} in its route or queue definition: ${actions} on the objects under ${prefix} of the files bucket only (no List, no Delete, no other prefix); an object-prefix ARN needs the trailing "*".`,
      );
    }
  }

  // Network.
  for (const endpoint of ['SqsEndpoint', 'SecretsManagerEndpoint']) {
    ack(
      find(`Network/Vpc/${endpoint}`),
      'EC23',
      'Interface endpoint security group: HTTPS from the VPC CIDR only (CDK default); the rule cannot evaluate the CIDR token.',
    );
  }

  // Database.
  const database = find('Database/Instance');
  ack(
    database,
    'RDS11',
    'A non-default port hides nothing: the instance is in isolated subnets and only RDS Proxy security group may reach it.',
  );
  if (!stage.database.multiAz) {
    ack(
      database,
      'RDS3',
      `Stage ${stage.name} is single-AZ to stay cheap; prod is Multi-AZ (asserted by the synth tests).`,
    );
  }
  if (!stage.database.deletionProtection) {
    ack(
      database,
      'RDS10',
      `Stage ${stage.name} is disposable; prod has deletion protection (asserted by the synth tests).`,
    );
  }

  // Keys.
  ack(
    find('JwtPublicKeys'),
    'SMG4',
    'Holds only the public keys of the JWT signing keys; the rotation of the signing keys secret writes it (publishing each new public key before it signs), so it has no rotation of its own.',
  );

  // Cache.
  ack(
    find('Cache/UpstashSecret'),
    'SMG4',
    'The Upstash token is issued by Upstash: rotate it in the Upstash console and put the new one in this secret (README § Deploy).',
  );
  ack(
    find('Cache/BridgeSecret'),
    'SMG4',
    'The bridge token is read by the bridge only at start: rotation is a documented two-step procedure (new secret value, then a new deployment of the bridge service; README § Deploy).',
  );
  ack(
    find('Cache/BridgeLoadBalancer'),
    'ELB2',
    'Internal balancer that only the functions reach; the bridge logs to CloudWatch, and an access-log bucket per stage would add cost without new information.',
  );
  ack(
    find('Cache/Bridge/TaskDef'),
    'ECS2',
    'The plain variables are not secrets (SRH mode and the Valkey endpoint); the token comes from Secrets Manager.',
  );
}
