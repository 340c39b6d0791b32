import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { ConfigError, getConfig } from '../config.js';
import { traced } from '../observability.js';

type SesModule = typeof import('@aws-sdk/client-sesv2');

let ses: Promise<{ sdk: SesModule; client: SESv2Client }> | undefined;

/**
 * Connect and request timeouts of the SES client, in ms: one attempt that ends within about
 * 4 s, so a stalled SES fails the message (SQS redelivers it later) well inside the worker's
 * timeout and the e-mail claim's lease (shared/mail/sent-emails.ts).
 */
export const SES_CONNECT_TIMEOUT_MS = 1000;
export const SES_REQUEST_TIMEOUT_MS = 3000;

/**
 * The SES v2 SDK module and the instance's client, both loaded on first use (a dynamic
 * `import()` of a package the bundle leaves external, the Lambda runtime's; see
 * `BUNDLE_EXTERNALS`), never at init, like the SQS client of `shared/queue/sqs.ts`. One
 * attempt with short timeouts (`SES_CONNECT_TIMEOUT_MS`, `SES_REQUEST_TIMEOUT_MS`, enforced by
 * `throwOnRequestTimeout`): the retry is SQS's redelivery. `SES_ENDPOINT` points it at the
 * local emulator.
 */
function loadSes(): Promise<{ sdk: SesModule; client: SESv2Client }> {
  ses ??= import('@aws-sdk/client-sesv2').then(
    (sdk) => {
      const config = getConfig();
      const client = new sdk.SESv2Client({
        region: config.AWS_REGION,
        maxAttempts: 1,
        requestHandler: {
          connectionTimeout: SES_CONNECT_TIMEOUT_MS,
          requestTimeout: SES_REQUEST_TIMEOUT_MS,
          throwOnRequestTimeout: true,
        },
        ...(config.SES_ENDPOINT ? { endpoint: config.SES_ENDPOINT } : {}),
      });
      return { sdk, client };
    },
    (error: unknown) => {
      ses = undefined;
      throw error;
    },
  );
  return ses;
}

/** One e-mail: a single recipient, a subject, and its plain-text and HTML bodies (UTF-8). */
export interface Email {
  /** The recipient's address (no display name). */
  to: string;
  /** The sender's address: one of the SES identity's (see `mailFrom`). */
  from: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Sends `email` with SES v2 `SendEmail` (simple content, UTF-8 subject and bodies) through the
 * instance's client. Returns the message id SES assigned once it accepted the e-mail for
 * delivery (AWS SES API v2, "SendEmail"). Not idempotent: SES has no request token for it,
 * so a caller that must send once dedupes itself (`sendOnce` in `./sent-emails.ts`).
 * Errors: SDK errors (network, timeout, throttling, `MessageRejected`, an unverified
 * identity or recipient in the sandbox, missing `ses:SendEmail` permission).
 */
export async function sendEmail(email: Email): Promise<{ messageId: string }> {
  const { sdk, client } = await loadSes();
  const utf8 = (data: string) => ({ Data: data, Charset: 'UTF-8' });
  const result = await traced('SES', () =>
    client.send(
      new sdk.SendEmailCommand({
        FromEmailAddress: email.from,
        Destination: { ToAddresses: [email.to] },
        Content: {
          Simple: {
            Subject: utf8(email.subject),
            Body: { Text: utf8(email.text), Html: utf8(email.html) },
          },
        },
      }),
    ),
  );
  if (!result.MessageId) throw new Error('SES accepted the e-mail but returned no MessageId');
  return { messageId: result.MessageId };
}

/**
 * The sender address of the configuration (`MAIL_FROM`). Errors: `ConfigError` when it is not
 * set (only the e-mail worker is given it).
 */
export function mailFrom(): string {
  const from = getConfig().MAIL_FROM;
  if (!from) throw new ConfigError('Invalid environment:\n  MAIL_FROM: is required to send e-mail');
  return from;
}
