import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';

/** Repository root (this file is `infra/local/lambda.ts`). */
export const REPO_ROOT = new URL('../../', import.meta.url);

/** Lambda function name of a handler file: `notes/get` → `notes-get`. */
export function functionName(file: string): string {
  return file.replace(/\//g, '-');
}

/**
 * A Lambda context object like the Node.js runtime's (AWS docs, "Using the Lambda context
 * object to retrieve Node.js function information"), with a real deadline.
 */
export function lambdaContext(file: string, timeoutMs = 29_000): Context {
  const name = functionName(file);
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

// biome-ignore lint/suspicious/noExplicitAny: handlers of any event type
export type LambdaHandler = (event: any, context: Context) => Promise<any>;

/**
 * How many invocations the local process may run at once, as it tells the code it runs
 * (`AWS_LAMBDA_MAX_CONCURRENCY`, the variable the Node.js runtime of Lambda Managed
 * Instances sets; 64 is that runtime's default per vCPU, AWS docs).
 */
const LOCAL_MAX_CONCURRENCY = '64';

let invokeStore: Promise<InvokeStoreBase> | undefined;

/**
 * The per-invocation store the Lambda Node.js runtime keeps when one execution environment
 * serves several requests at once (`@aws/lambda-invoke-store`, an `AsyncLocalStorage` behind
 * `globalThis.awslambda.InvokeStore`). Powertools reads it: with `AWS_LAMBDA_MAX_CONCURRENCY`
 * set, the logger's `addContext` / `appendKeys` / `removeKeys` and the batch processor's
 * state belong to the current invocation instead of the module-global instance. In Lambda
 * on demand one instance runs one request at a time; the local gateway, the SQS poller and
 * the tests run many in one process, which is exactly the Managed Instances case.
 */
function localInvokeStore(): Promise<InvokeStoreBase> {
  if (!invokeStore) {
    process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= LOCAL_MAX_CONCURRENCY;
    invokeStore = InvokeStore.getInstanceAsync(true);
  }
  return invokeStore;
}

/**
 * Runs one invocation of `handler` in its own invocation scope (request id from the
 * context), like the runtime does for each event it receives.
 */
export async function invokeScoped(
  handler: LambdaHandler,
  event: unknown,
  context: Context,
): Promise<unknown> {
  const store = await localInvokeStore();
  return store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () =>
    handler(event, context),
  );
}

const loaded = new Map<string, Promise<LambdaHandler>>();

/**
 * Imports `functions/<file>.ts` once and returns its exported `handler`, as the Lambda
 * runtime does with the bundle CDK deploys; each call of the returned function is one
 * invocation with its own scope (see `localInvokeStore`), so concurrent calls keep their
 * own log context. Errors: the file is missing or exports no handler.
 */
export function loadHandler(file: string): Promise<LambdaHandler> {
  let handler = loaded.get(file);
  if (!handler) {
    if (!/^[a-z0-9-]+(\/[a-z0-9-]+)*$/.test(file)) throw new Error(`Bad function name: ${file}`);
    const url = pathToFileURL(new URL(`functions/${file}.ts`, REPO_ROOT).pathname);
    handler = import(url.href).then((module: { handler?: LambdaHandler }) => {
      const exported = module.handler;
      if (typeof exported !== 'function')
        throw new Error(`functions/${file}.ts exports no handler`);
      return (event: unknown, context: Context) => invokeScoped(exported, event, context);
    });
    // A failed import (a module that throws at init) is retried on the next call, as the
    // runtime retries the init of a new instance, instead of failing every call after it.
    handler.catch(() => loaded.delete(file));
    loaded.set(file, handler);
  }
  return handler;
}
