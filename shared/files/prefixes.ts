/**
 * The key prefixes of the stage's files bucket and how long their objects live: exports are
 * downloaded within minutes (their presigned URL is valid 15 minutes) and kept a week for a
 * retry of the download; an upload is imported right after it is sent, so a day is plenty.
 * CDK (infra/storage.ts) turns these into lifecycle rules and per-prefix grants; the local
 * cloud creates the same bucket in fauxqs.
 */
export const FILE_PREFIXES = {
  exports: { prefix: 'exports/', expireAfterDays: 7 },
  uploads: { prefix: 'uploads/', expireAfterDays: 1 },
} as const;
export type FilePrefix = keyof typeof FILE_PREFIXES;

/**
 * What a function may do with the objects under one prefix of the files bucket, declared by
 * its route (`RouteDefinition.files`) or queue (`QueueDefinition.files`).
 */
export interface FileAccess {
  prefix: FilePrefix;
  /** `read`: s3:GetObject (also what a presigned GET it signs needs); `write`: s3:PutObject (and multipart). */
  access: 'read' | 'write';
}

/** The logical name of the files bucket; the local cloud's bucket is called this. */
export const FILES_BUCKET_NAME = 'files';
