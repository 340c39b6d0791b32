/**
 * The CloudFormation properties every private bucket of the stage has (infra/storage.ts):
 * SSE-S3, every public access blocked, object ownership enforced (no ACLs).
 */
export const PRIVATE_BUCKET_PROPERTIES = {
  BucketEncryption: {
    ServerSideEncryptionConfiguration: [
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ],
  },
  PublicAccessBlockConfiguration: {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  },
  OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
};
