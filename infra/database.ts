import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IConnectable, InstanceType, Port, SubnetType, type Vpc } from 'aws-cdk-lib/aws-ec2';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import {
  CaCertificate,
  ClientPasswordAuthType,
  Credentials,
  DatabaseInstance,
  DatabaseInstanceEngine,
  type DatabaseProxy,
  DatabaseSecret,
  ParameterGroup,
  PostgresEngineVersion,
  StorageType,
} from 'aws-cdk-lib/aws-rds';
import {
  type ISecret,
  SecretRotation,
  SecretRotationApplication,
} from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { StageConfig } from './stages.js';

/** Name of the application database on the instance. */
export const DATABASE_NAME = 'notes';
/** Owner of the schema: the master user, used only by the migration trigger. */
export const ADMIN_USER = 'notes_admin';
/** The functions' login: DML on the tables, nothing else (granted by the migration trigger). */
export const APP_USER = 'notes_app';
const PORT = 5432;

/**
 * RDS PostgreSQL 17 for one stage, reached only through RDS Proxy:
 * - private (isolated `data` subnets, not publicly accessible), storage encrypted (KMS),
 *   TLS required by the parameter group (`rds.force_ssl`) and by the proxy (`requireTLS`);
 * - automated backups (`backupRetentionDays`), Multi-AZ and deletion protection per stage,
 *   a final snapshot when the stack is deleted on a stage that retains data;
 * - two secrets, each rotated by Secrets Manager every 30 days (single-user rotation): the
 *   master user's and the application user's. Only RDS Proxy and the migration trigger read
 *   them;
 * - RDS Proxy in front, logging in to PostgreSQL with those secrets. Clients authenticate to
 *   the proxy with IAM (`rds-db:connect`, a SigV4 token made locally, valid 15 minutes), so
 *   no function holds a database password and a rotation never reaches them; they verify
 *   the proxy's ACM certificate (`sslmode=verify-full`; no CA bundle needed, AWS docs
 *   "Using TLS/SSL with RDS Proxy"). Lambda bursts share the proxy's bounded pool.
 */
export class Database extends Construct {
  readonly instance: DatabaseInstance;
  readonly proxy: DatabaseProxy;
  /** `{username, password, host, port, dbname}` of the master user (RDS Proxy only). */
  readonly adminSecret: ISecret;
  /** The application user's, read by RDS Proxy and by the migration trigger (sets the role). */
  readonly appSecret: ISecret;

  constructor(scope: Construct, id: string, props: { stage: StageConfig; vpc: Vpc }) {
    super(scope, id);
    const { stage, vpc } = props;
    const engine = DatabaseInstanceEngine.postgres({ version: PostgresEngineVersion.VER_17 });
    const retain = stage.removalPolicy === RemovalPolicy.RETAIN;

    this.instance = new DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: new InstanceType(stage.database.instanceType),
      vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      publiclyAccessible: false,
      port: PORT,
      databaseName: DATABASE_NAME,
      credentials: Credentials.fromGeneratedSecret(ADMIN_USER),
      storageEncrypted: true,
      storageType: StorageType.GP3,
      allocatedStorage: stage.database.allocatedStorageGb,
      maxAllocatedStorage: stage.database.maxAllocatedStorageGb,
      multiAz: stage.database.multiAz,
      deletionProtection: stage.database.deletionProtection,
      backupRetention: Duration.days(stage.database.backupRetentionDays),
      removalPolicy: retain ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      autoMinorVersionUpgrade: true,
      caCertificate: CaCertificate.RDS_CA_RSA2048_G1,
      cloudwatchLogsExports: ['postgresql'],
      cloudwatchLogsRetention: stage.logRetention,
      enablePerformanceInsights: true,
      parameterGroup: new ParameterGroup(this, 'Parameters', {
        engine,
        description: 'TLS only; log statements slower than 1 s',
        parameters: { 'rds.force_ssl': '1', log_min_duration_statement: '1000' },
      }),
    });
    this.adminSecret = this.instance.secret as ISecret;

    this.appSecret = new DatabaseSecret(this, 'AppSecret', {
      username: APP_USER,
      dbname: DATABASE_NAME,
    }).attach(this.instance);

    const rotationSubnets = { subnetType: SubnetType.PRIVATE_WITH_EGRESS };
    this.instance.addRotationSingleUser({
      automaticallyAfter: Duration.days(30),
      vpcSubnets: rotationSubnets,
    });
    new SecretRotation(this, 'AppSecretRotation', {
      application: SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
      secret: this.appSecret,
      target: this.instance,
      vpc,
      vpcSubnets: rotationSubnets,
      automaticallyAfter: Duration.days(30),
    });

    this.proxy = this.instance.addProxy('Proxy', {
      dbProxyName: `notes-api-${stage.name}`,
      vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      secrets: [this.adminSecret, this.appSecret],
      requireTLS: true,
      iamAuth: true,
      clientPasswordAuthType: ClientPasswordAuthType.POSTGRES_SCRAM_SHA_256,
      borrowTimeout: Duration.seconds(10),
      idleClientTimeout: Duration.minutes(30),
      maxConnectionsPercent: 90,
      debugLogging: false,
    });
    this.instance.connections.allowDefaultPortFrom(this.proxy, 'RDS Proxy to PostgreSQL');
  }

  /** Lets `client` (a security group or function) reach RDS Proxy on PostgreSQL's port. */
  allowFrom(client: IConnectable): void {
    this.proxy.connections.allowFrom(client, Port.tcp(PORT), 'Functions to RDS Proxy');
  }

  /**
   * `DATABASE_URL` for a function: the proxy endpoint, the user, TLS with certificate
   * verification, and no password (an IAM token is made at connect time), and the grant
   * that lets `fn` connect as `user`.
   */
  connect(fn: IGrantable, user: string): string {
    this.proxy.grantConnect(fn, user);
    return `postgres://${user}@${this.proxy.endpoint}:${PORT}/${DATABASE_NAME}?sslmode=verify-full`;
  }
}
