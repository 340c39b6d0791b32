import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { stages } from '../../infra/stages.js';
import { FileStorage } from '../../infra/storage.js';
import { PRIVATE_BUCKET_PROPERTIES } from './private-bucket.js';

/** A stack holding only the files bucket of `stage`, and a role granted `accesses` on it. */
function synthStorage(stage: 'dev' | 'prod') {
  const stack = new Stack(new App(), 'StorageTest');
  const storage = new FileStorage(stack, 'Storage', { stage: stages[stage] as never });
  const role = new Role(stack, 'Exporter', {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
  });
  storage.grant(role, [
    { prefix: 'exports', access: 'write' },
    { prefix: 'exports', access: 'read' },
  ]);
  return Template.fromStack(stack);
}

describe('FileStorage (the job files bucket)', () => {
  const template = synthStorage('dev');
  const files = () => {
    const buckets = template.findResources('AWS::S3::Bucket', {
      Properties: { LifecycleConfiguration: Match.objectLike({}) },
    });
    const withLogs = Object.entries(buckets).filter(
      ([, b]) =>
        (b as { Properties: { LoggingConfiguration?: unknown } }).Properties.LoggingConfiguration,
    );
    expect(withLogs).toHaveLength(1);
    return withLogs[0] as [string, { Properties: Record<string, unknown> }];
  };

  it('is private, encrypted and owner-enforced, with access logs to a second bucket', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.allResourcesProperties('AWS::S3::Bucket', PRIVATE_BUCKET_PROPERTIES);
    expect(files()[1].Properties.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'files/' });
  });

  it('denies every request without TLS, on both buckets', () => {
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('deletes exports after 7 days, uploads after 1 day, and abandoned multipart uploads', () => {
    const rules = (
      files()[1].Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }
    ).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: 'exports/', ExpirationInDays: 7, Status: 'Enabled' }),
        expect.objectContaining({ Prefix: 'uploads/', ExpirationInDays: 1, Status: 'Enabled' }),
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
      ]),
    );
  });

  it('grants object actions under the prefix only: no List, no Delete, no bucket-wide grant', () => {
    const [filesId] = files();
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    const statements = (
      policies[0] as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }
    ).Properties.PolicyDocument.Statement;
    const resource = {
      'Fn::Join': ['', [{ 'Fn::GetAtt': [filesId, 'Arn'] }, '/exports/*']],
    };
    expect(statements).toEqual([
      expect.objectContaining({
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Effect: 'Allow',
        Resource: resource,
      }),
      expect.objectContaining({ Action: 's3:GetObject', Effect: 'Allow', Resource: resource }),
    ]);
  });

  it('keeps prod buckets when the stack is deleted, and lets dev go with its stack', () => {
    for (const bucket of Object.values(synthStorage('prod').findResources('AWS::S3::Bucket'))) {
      expect(bucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket).toMatchObject({ DeletionPolicy: 'Delete' });
    }
  });
});
