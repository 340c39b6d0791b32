import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  HttpMethods,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FILE_PREFIXES, type FileAccess } from '../shared/files/prefixes.js';
import type { StageConfig } from './stages.js';

export { FILE_PREFIXES, type FileAccess, type FilePrefix } from '../shared/files/prefixes.js';

/**
 * The private S3 bucket of one stage for job files (exports it writes, CSV uploads it
 * imports): S3-managed encryption (SSE-S3), every public access blocked, object ownership
 * enforced (no ACLs), TLS-only access (a bucket policy denies `aws:SecureTransport` false,
 * AWS S3 security best practices), lifecycle rules per prefix (`FILE_PREFIXES`), incomplete
 * multipart uploads aborted after a day, and server access logs in a second bucket kept 90
 * days. CORS allows a browser on the stage's origins to PUT an upload and GET an export
 * with a presigned URL; curl needs none.
 */
export class FileStorage extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: { stage: StageConfig }) {
    super(scope, id);
    const { stage } = props;
    // Log delivery by bucket policy, not the LogDeliveryWrite ACL that BUCKET_OWNER_ENFORCED
    // forbids (AWS S3 docs, "Enabling Amazon S3 server access logging"); set here, before any
    // child exists, so the stage needs no feature flag in cdk.json.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const destroy = stage.removalPolicy === RemovalPolicy.DESTROY;
    const common = {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // Dev is torn down with its stack; prod keeps its buckets (and their files) on delete.
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    };
    const accessLogs = new Bucket(this, 'AccessLogs', {
      ...common,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    this.bucket = new Bucket(this, 'Files', {
      ...common,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'files/',
      lifecycleRules: [
        ...Object.values(FILE_PREFIXES).map(({ prefix, expireAfterDays }) => ({
          id: `expire-${prefix.replace('/', '')}`,
          prefix,
          expiration: Duration.days(expireAfterDays),
        })),
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      cors: [
        {
          allowedOrigins: stage.corsOrigins,
          allowedMethods: [HttpMethods.PUT, HttpMethods.GET],
          allowedHeaders: ['content-type', 'content-length'],
          maxAge: 3600,
        },
      ],
    });
  }

  /**
   * Grants `grantee` exactly `accesses` on the objects under their prefixes: `read` is
   * s3:GetObject, `write` s3:PutObject and s3:AbortMultipartUpload (multipart parts are
   * PutObject too, AWS S3 docs "Multipart upload API and permissions"). No list, no delete,
   * nothing outside the prefix; bucket-level grants (`Bucket.grantRead`) would add List.
   */
  grant(grantee: IGrantable, accesses: readonly FileAccess[]): void {
    for (const { prefix, access } of accesses) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions:
            access === 'read' ? ['s3:GetObject'] : ['s3:PutObject', 's3:AbortMultipartUpload'],
          resources: [this.bucket.arnForObjects(`${FILE_PREFIXES[prefix].prefix}*`)],
        }),
      );
    }
  }
}
