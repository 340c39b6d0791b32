/** Uploads of files an import reads (API.md § Background jobs, `POST /api/v1/uploads`). */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Principal } from '../auth/tokens.js';
import { presignPut } from '../files/s3.js';
import * as repository from './repository.js';
import { type CreateUploadBody, PRESIGNED_URL_SECONDS, type Upload } from './schemas.js';
import { asExistingAccount } from './service.js';

/**
 * Records an upload of the caller and returns a presigned S3 PUT for it, valid
 * `PRESIGNED_URL_SECONDS`, whose `Content-Type` and `Content-Length` are signed (S3 refuses
 * another type or size: AWS S3 docs, "Uploading objects with presigned URLs"). The object
 * key (`uploads/<upload id>/<128 random bits>`) is never shown to the client. Errors:
 * `NotFound` when the caller's account is gone; `ConfigError` without a bucket.
 */
export async function createUpload(caller: Principal, body: CreateUploadBody): Promise<Upload> {
  const id = randomUUID();
  const objectKey = `uploads/${id}/${randomBytes(16).toString('base64url')}.csv`;
  const expiresAt = new Date(Date.now() + PRESIGNED_URL_SECONDS * 1000);
  const signed = await presignPut({
    key: objectKey,
    contentType: body.content_type,
    contentLength: body.size,
    expiresInSeconds: PRESIGNED_URL_SECONDS,
  });
  // Signed first: a signing failure (no bucket or credentials) then records nothing.
  await asExistingAccount(() =>
    repository.insertUpload({
      id,
      ownerId: caller.userId,
      objectKey,
      filename: body.filename,
      contentType: body.content_type,
      size: body.size,
    }),
  );
  return {
    upload_id: id,
    url: signed.url,
    method: 'PUT',
    headers: signed.headers,
    expires_at: expiresAt.toISOString(),
  };
}
