import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one structured JSON logger (Powertools). Level from `POWERTOOLS_LOG_LEVEL`, service name
 * from `POWERTOOLS_SERVICE_NAME`. Never log tokens, passwords or request bodies.
 *
 * Per-invocation state (`addContext`, `appendKeys`, `removeKeys`) is safe under concurrent
 * invocations in one process: when `AWS_LAMBDA_MAX_CONCURRENCY` is set and the runtime keeps an
 * invoke store (Lambda Managed Instances; locally `infra/local/lambda.ts`), Powertools keeps
 * that state per invocation, so each line carries its own request id and function name.
 * Keys that must outlive an invocation go through `appendPersistentKeys`, which is shared.
 */
export const logger = new Logger({ serviceName: 'api' });
