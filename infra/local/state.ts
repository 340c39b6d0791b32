import { existsSync, readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './lambda.js';

/**
 * The folder where the local cloud keeps its data between runs (with a trailing `/`):
 * `LOCAL_STATE_DIR` when set (e.g. a second checkout's stack, or a throw-away one), else the
 * git-ignored `.local/` of the project.
 */
export const STATE_DIR = process.env.LOCAL_STATE_DIR
  ? `${resolve(process.env.LOCAL_STATE_DIR)}${sep}`
  : fileURLToPath(new URL('.local/', REPO_ROOT));
export const PG_DATA_DIR = `${STATE_DIR}pg`;
export const KEYS_FILE = `${STATE_DIR}jwks.json`;
export const STACK_FILE = `${STATE_DIR}stack.json`;

/** What a running `npm run dev` writes to `STACK_FILE` so other commands can find it. */
export interface RunningStack {
  pid: number;
  url: string;
  env: Record<string, string>;
}

/** The running `npm run dev` stack, or null when none is running. */
export function readRunningStack(): RunningStack | null {
  if (!existsSync(STACK_FILE)) return null;
  const stack = JSON.parse(readFileSync(STACK_FILE, 'utf8')) as RunningStack;
  try {
    process.kill(stack.pid, 0);
    return stack;
  } catch {
    return null; // stale file from a stack that was killed
  }
}

/**
 * The database a command should use: `DATABASE_URL` when set, else the running dev stack's.
 * Errors: neither is available.
 */
export function resolveDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL ?? readRunningStack()?.env.DATABASE_URL;
  if (!url) {
    throw new Error('No database: start the local stack (npm run dev) or set DATABASE_URL.');
  }
  return url;
}
