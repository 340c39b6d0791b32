import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
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

const loaded = new Map<string, Promise<LambdaHandler>>();

/**
 * Imports `functions/<file>.ts` once and returns its exported `handler`, as the Lambda
 * runtime does with the bundle CDK deploys. Errors: the file is missing or exports no handler.
 */
export function loadHandler(file: string): Promise<LambdaHandler> {
  let handler = loaded.get(file);
  if (!handler) {
    if (!/^[a-z0-9-]+(\/[a-z0-9-]+)*$/.test(file)) throw new Error(`Bad function name: ${file}`);
    const url = pathToFileURL(new URL(`functions/${file}.ts`, REPO_ROOT).pathname);
    handler = import(url.href).then((module: { handler?: LambdaHandler }) => {
      if (typeof module.handler !== 'function')
        throw new Error(`functions/${file}.ts exports no handler`);
      return module.handler;
    });
    loaded.set(file, handler);
  }
  return handler;
}
