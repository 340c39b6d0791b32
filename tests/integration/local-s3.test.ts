import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalFiles } from '../../infra/local/s3.js';
import { startLocalQueues } from '../../infra/local/sqs.js';

// The local S3 end to end: fauxqs (its own, as the queue tests start theirs), the proxy in
// front of it, and the functions' S3 module (shared/files/s3.ts) configured from their env,
// which is set before that module is imported. Uploads and downloads go through curl, as a
// browser or a script would use the presigned URLs.
const queues = await startLocalQueues();
const files = await startLocalFiles(queues);
Object.assign(process.env, {
  S3_ENDPOINT: files.env.S3_ENDPOINT,
  FILES_BUCKET: files.env.FILES_BUCKET,
  AWS_REGION: queues.env.AWS_REGION,
  AWS_ACCESS_KEY_ID: queues.env.AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: queues.env.AWS_SECRET_ACCESS_KEY,
});
const work = await mkdtemp(join(tmpdir(), 'local-s3-'));
afterAll(async () => {
  await files.stop();
  await queues.stop();
  await rm(work, { recursive: true, force: true });
});

const s3 = await import('../../shared/files/s3.js');
const run = promisify(execFile);
let counter = 0;
/** A key of its own for each use, so no test sees another's objects. */
const freshKey = (prefix: string, name: string) => `${prefix}${Date.now()}-${++counter}/${name}`;

/** Runs curl; returns the status, the response headers (lower-case names) and the body. */
async function curl(args: string[]): Promise<{ status: number; headers: string; body: string }> {
  const id = ++counter;
  const headersFile = join(work, `headers-${id}`);
  const bodyFile = join(work, `body-${id}`);
  const { stdout } = await run(
    '/usr/bin/curl',
    ['-sS', '--max-time', '20', '-D', headersFile, '-o', bodyFile, '-w', '%{http_code}', ...args],
    { timeout: 25_000 },
  );
  return {
    status: Number(stdout.trim()),
    headers: (await readFile(headersFile, 'utf8')).toLowerCase(),
    body: await readFile(bodyFile, 'utf8'),
  };
}

/** A file of `content` to upload with `curl -T`. */
async function fileOf(content: string | Buffer): Promise<string> {
  const path = join(work, `upload-${++counter}`);
  await writeFile(path, content);
  return path;
}

const CSV = 'sku,name,qty\nA-1,Widget,3\nB-2,Gadget,5\n';
const csvLength = Buffer.byteLength(CSV);

describe('presigned PUT', () => {
  it('accepts an upload with the signed type and size; headObject reports them', async () => {
    const key = freshKey('uploads/', 'import.csv');
    const { url, headers } = await s3.presignPut({
      key,
      contentType: 'text/csv',
      contentLength: csvLength,
      expiresInSeconds: 900,
    });
    const put = await curl([
      '-T',
      await fileOf(CSV),
      '-H',
      `Content-Type: ${headers['content-type']}`,
      '-H',
      `Content-Length: ${headers['content-length']}`,
      url,
    ]);
    expect(put.status).toBe(200);
    expect(await s3.headObject(key)).toEqual({ size: csvLength, contentType: 'text/csv' });
  });

  it('refuses an upload of another Content-Type, and of another size', async () => {
    const key = freshKey('uploads/', 'import.csv');
    const { url } = await s3.presignPut({
      key,
      contentType: 'text/csv',
      contentLength: csvLength,
      expiresInSeconds: 900,
    });
    const otherType = await curl([
      '-T',
      await fileOf(CSV),
      '-H',
      'Content-Type: text/plain',
      '-H',
      `Content-Length: ${csvLength}`,
      url,
    ]);
    expect(otherType.status).toBe(403);
    expect(otherType.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    const bigger = `${CSV}C-3,Gizmo,7\n`;
    const otherSize = await curl([
      '-T',
      await fileOf(bigger),
      '-H',
      'Content-Type: text/csv',
      '-H',
      `Content-Length: ${Buffer.byteLength(bigger)}`,
      url,
    ]);
    expect(otherSize.status).toBe(403);
    expect(otherSize.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await s3.headObject(key)).toBeNull();
  });

  it('answers a larger upload that waits for 100-continue: refused when wrongly typed, else stored', async () => {
    const key = freshKey('uploads/', 'big.csv');
    const body = Buffer.alloc(2 * 1024 * 1024, 'x');
    const { url } = await s3.presignPut({
      key,
      contentType: 'text/csv',
      contentLength: body.length,
      expiresInSeconds: 900,
    });
    const refused = await curl([
      '-T',
      await fileOf(body),
      '-H',
      'Content-Type: application/octet-stream',
      '-H',
      'Expect: 100-continue',
      url,
    ]);
    expect(refused.status).toBe(403);
    const accepted = await curl([
      '-T',
      await fileOf(body),
      '-H',
      'Content-Type: text/csv',
      '-H',
      'Expect: 100-continue',
      url,
    ]);
    expect(accepted.status).toBe(200);
    expect(await s3.headObject(key)).toEqual({ size: body.length, contentType: 'text/csv' });
  });

  it('stores a 30 MiB upload (above fauxqs’s 11 MiB request limit) in parts: it reads back identical', async () => {
    const key = freshKey('uploads/', 'large.csv');
    const body = randomBytes(30 * 1024 * 1024 + 12_345); // 4 parts of 8 MiB, the last shorter
    const { url, headers } = await s3.presignPut({
      key,
      contentType: 'text/csv',
      contentLength: body.length,
      expiresInSeconds: 900,
    });
    const put = await curl([
      '-T',
      await fileOf(body),
      '-H',
      `content-type: ${headers['content-type']}`,
      url,
    ]);
    expect(put.status, put.body).toBe(200);
    expect(put.headers).toMatch(/\betag: "[0-9a-f]+-4"/);
    expect(await s3.headObject(key)).toEqual({ size: body.length, contentType: 'text/csv' });
    const read = createHash('sha256');
    for await (const chunk of await s3.getObjectStream(key)) read.update(chunk as Buffer);
    expect(read.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('refuses a large upload of another size than signed, and stores nothing', async () => {
    const key = freshKey('uploads/', 'large.csv');
    const signedLength = 30 * 1024 * 1024;
    const { url } = await s3.presignPut({
      key,
      contentType: 'text/csv',
      contentLength: signedLength,
      expiresInSeconds: 900,
    });
    for (const length of [signedLength + 1, 20 * 1024 * 1024]) {
      const put = await curl([
        '-T',
        await fileOf(Buffer.alloc(length, 'x')),
        '-H',
        'content-type: text/csv',
        url,
      ]);
      expect(put.status).toBe(403);
      expect(put.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
    expect(await s3.headObject(key)).toBeNull();
  });

  it('a large upload whose client goes away midway leaves no object', async () => {
    const key = freshKey('uploads/', 'cut.csv');
    const length = 30 * 1024 * 1024;
    const { url } = await s3.presignPut({
      key,
      contentType: 'text/csv',
      contentLength: length,
      expiresInSeconds: 900,
    });
    const target = new URL(url);
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        host: target.hostname,
        port: target.port,
        method: 'PUT',
        path: `${target.pathname}${target.search}`,
        headers: { 'content-type': 'text/csv', 'content-length': length },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      // 20 MiB of 30 (two parts sent), then the connection is cut.
      req.write(Buffer.alloc(20 * 1024 * 1024, 'y'), () => setTimeout(() => req.destroy(), 200));
    });
    // Time for the proxy to see the cut and abort (a completed upload would show by now).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await s3.headObject(key)).toBeNull();
  });

  it('refuses an expired URL with AccessDenied "Request has expired"', async () => {
    // Signed 16 minutes ago for 15, with the local credentials: as a URL handed out then.
    const client = new S3Client({
      region: queues.env.AWS_REGION,
      endpoint: files.endpoint,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const key = freshKey('uploads/', 'late.csv');
    const url = await getSignedUrl(
      client,
      new PutObjectCommand({
        Bucket: files.bucket,
        Key: key,
        ContentType: 'text/csv',
        ContentLength: csvLength,
      }),
      {
        expiresIn: 900,
        signingDate: new Date(Date.now() - 16 * 60_000),
        signableHeaders: new Set(['content-type', 'content-length']),
      },
    );
    const put = await curl(['-T', await fileOf(CSV), '-H', 'Content-Type: text/csv', url]);
    expect(put.status).toBe(403);
    expect(put.body).toContain('<Code>AccessDenied</Code>');
    expect(put.body).toContain('<Message>Request has expired</Message>');
    expect(await s3.headObject(key)).toBeNull();
  });

  it('refuses a request with neither a presigned URL nor an Authorization header', async () => {
    const key = freshKey('uploads/', 'anonymous.csv');
    await s3.putObject(key, CSV, 'text/csv');
    const anonymous = await curl([`${files.endpoint}/${files.bucket}/${key}`]);
    expect(anonymous.status).toBe(403);
    expect(anonymous.body).toContain('<Code>AccessDenied</Code>');
    const upload = await curl([
      '-T',
      await fileOf(CSV),
      `${files.endpoint}/${files.bucket}/${freshKey('uploads/', 'x.csv')}`,
    ]);
    expect(upload.status).toBe(403);
  });
});

describe('presigned GET', () => {
  it('downloads the object with its download name and type', async () => {
    const key = freshKey('exports/', 'notes.csv');
    await s3.putObject(key, CSV, 'application/octet-stream');
    const url = await s3.presignGet({
      key,
      expiresInSeconds: 900,
      downloadName: 'notes export.csv',
      contentType: 'text/csv; charset=utf-8',
    });
    const got = await curl([url]);
    expect(got.status).toBe(200);
    expect(got.body).toBe(CSV);
    expect(got.headers).toContain('content-disposition: attachment; filename="notes export.csv"');
    expect(got.headers).toContain('content-type: text/csv; charset=utf-8');
    // The same URL with its key changed is refused.
    const other = await curl([url.replace('/notes.csv?', '/other.csv?')]);
    expect(other.status).toBe(403);
  });

  it('refuses a GET URL signed in the past whose validity is over', async () => {
    const key = freshKey('exports/', 'old.csv');
    await s3.putObject(key, CSV, 'text/csv');
    const client = new S3Client({
      region: queues.env.AWS_REGION,
      endpoint: files.endpoint,
      forcePathStyle: true,
    });
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: files.bucket, Key: key }),
      {
        expiresIn: 60,
        signingDate: new Date(Date.now() - 61_000),
      },
    );
    const got = await curl([url]);
    expect(got.status).toBe(403);
    expect(got.body).toContain('Request has expired');
  });
});

describe('objects through the SDK', () => {
  it('getObjectStream reads the whole object', async () => {
    const key = freshKey('uploads/', 'digits.txt');
    await s3.putObject(key, '0123456789', 'text/plain');
    expect(await text(await s3.getObjectStream(key))).toBe('0123456789');
  });

  it('a multipart upload of two parts round trips', async () => {
    const key = freshKey('exports/', 'big.csv');
    const first = Buffer.alloc(s3.MIN_PART_BYTES, 'a');
    const second = Buffer.from('tail,of,the,export\n'.repeat(100));
    const uploadId = await s3.createMultipartUpload(key, 'text/csv');
    const etags = [
      await s3.uploadPart(key, uploadId, 1, first),
      await s3.uploadPart(key, uploadId, 2, second),
    ];
    // Given out of order: completeMultipartUpload sends them ascending, as S3 requires.
    await s3.completeMultipartUpload(key, uploadId, [
      { partNumber: 2, etag: etags[1] as string },
      { partNumber: 1, etag: etags[0] as string },
    ]);
    expect(await s3.headObject(key)).toEqual({
      size: first.length + second.length,
      contentType: 'text/csv',
    });
    const whole = await text(await s3.getObjectStream(key));
    expect(whole).toBe(first.toString() + second.toString());
    // Cleanup after completion is harmless: the upload is gone, NoSuchUpload is ignored.
    await expect(s3.abortMultipartUpload(key, uploadId)).resolves.toBeUndefined();
  });

  it('an aborted multipart upload leaves no object', async () => {
    const key = freshKey('exports/', 'aborted.csv');
    const uploadId = await s3.createMultipartUpload(key, 'text/csv');
    await s3.uploadPart(key, uploadId, 1, Buffer.from('a,b\n'));
    await s3.abortMultipartUpload(key, uploadId);
    expect(await s3.headObject(key)).toBeNull();
    await expect(
      s3.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: '"x"' }]),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('a missing key: headObject is null, getObjectStream throws ObjectNotFound', async () => {
    const key = freshKey('uploads/', 'missing.csv');
    expect(await s3.headObject(key)).toBeNull();
    const read = s3.getObjectStream(key);
    await expect(read).rejects.toBeInstanceOf(s3.ObjectNotFound);
    await expect(read).rejects.toMatchObject({ key });
  });
});

describe('outages', () => {
  it('with the S3 proxy stopped a call fails (no hang) while SQS answers; after start() it works', async () => {
    const key = freshKey('uploads/', 'outage.txt');
    await files.stop();
    try {
      await expect(s3.putObject(key, 'during', 'text/plain')).rejects.toThrow();
      await expect(s3.headObject(key)).rejects.toThrow();
      const health = await fetch(`http://127.0.0.1:${queues.port}/health`);
      expect(health.status).toBe(200);
    } finally {
      await files.start();
    }
    await s3.putObject(key, 'after', 'text/plain');
    expect(await text(await s3.getObjectStream(key))).toBe('after');
  });

  it('after fauxqs restarts (empty), the files bucket exists again', async () => {
    await queues.stop();
    await queues.start();
    const key = freshKey('uploads/', 'restart.txt');
    await s3.putObject(key, 'again', 'text/plain');
    expect(await s3.headObject(key)).toEqual({ size: 5, contentType: 'text/plain' });
  });
});
