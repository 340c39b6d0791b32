/**
 * AWS Signature Version 4 query signing (presigned URLs), shared by the RDS IAM token and
 * the S3 presigned URLs: @smithy/signature-v4 (the AWS SDK's own signer) with node:crypto's
 * SHA-256, loaded on first use. Source: AWS docs, "Create a signed AWS API request" and
 * "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)". Neither caller
 * bundles the SDK's default credential chain: Lambda gives the role's credentials in the
 * environment (AWS docs, "Using Lambda environment variables": AWS_ACCESS_KEY_ID, …).
 */

/** AWS credentials that sign a request: an access key pair and, for a role, its session token. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

type Signing = [
  typeof import('@smithy/signature-v4'),
  typeof import('@smithy/protocol-http'),
  typeof import('@smithy/hash-node'),
];
let signing: Promise<Signing> | undefined;

/** The signing libraries, loaded on the first signature: functions that sign nothing never run them. */
function loadSigning(): Promise<Signing> {
  signing ??= Promise.all([
    import('@smithy/signature-v4'),
    import('@smithy/protocol-http'),
    import('@smithy/hash-node'),
  ]);
  return signing;
}

/**
 * SigV4's `UriEncode`: percent-encodes every byte but the RFC 3986 unreserved characters
 * (`encodeURIComponent` leaves `!'()*` as they are, so those are encoded too).
 */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** What a presigned request is: `path` already URI-encoded (S3 keys: per segment). */
export interface PresignInput {
  service: string;
  region: string;
  credentials: AwsCredentials;
  method: string;
  protocol: 'http:' | 'https:';
  hostname: string;
  port?: number | undefined;
  path: string;
  query?: Record<string, string>;
  /** Headers the request must carry, all signed (with `host`). */
  headers?: Record<string, string>;
  expiresInSeconds: number;
  signingDate?: Date;
  /** The payload hash to sign instead of hashing an empty body (S3: `UNSIGNED-PAYLOAD`). */
  payloadHash?: string;
  /** Escape the path again when signing (true for most services, false for S3). */
  uriEscapePath?: boolean;
}

/**
 * The query string (sorted, `UriEncode`d, without `?`) of `input` presigned with SigV4: the
 * request's own query plus `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`,
 * `-SignedHeaders` (host and `headers`), `-Security-Token` (with a session token) and
 * `-Signature`. Errors: rejects when the signer refuses the credentials.
 */
export async function presignQuery(input: PresignInput): Promise<string> {
  const [{ SignatureV4 }, { HttpRequest }, { Hash }] = await loadSigning();
  const signer = new SignatureV4({
    service: input.service,
    region: input.region,
    credentials: input.credentials,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: input.uriEscapePath ?? true,
  });
  const host = input.port ? `${input.hostname}:${input.port}` : input.hostname;
  const headers: Record<string, string> = { host, ...input.headers };
  // Hoisted into the query by the signer, spelt as AWS SDKs spell it.
  if (input.payloadHash) headers['X-Amz-Content-Sha256'] = input.payloadHash;
  const presigned = await signer.presign(
    new HttpRequest({
      method: input.method,
      protocol: input.protocol,
      hostname: input.hostname,
      ...(input.port ? { port: input.port } : {}),
      path: input.path,
      query: { ...input.query },
      headers,
    }),
    {
      expiresIn: input.expiresInSeconds,
      signingDate: input.signingDate ?? new Date(),
      signableHeaders: new Set(Object.keys(input.headers ?? {}).map((h) => h.toLowerCase())),
    },
  );
  const signed = presigned.query ?? {};
  return Object.keys(signed)
    .sort()
    .map((name) => `${uriEncode(name)}=${uriEncode(String(signed[name]))}`)
    .join('&');
}
