import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CHECK = 'infra/scripts/require-node.mjs';

/** Runs the version check as if Node.js were `version` (patched before the script loads). */
function checkAs(version: string) {
  const patch = `Object.defineProperty(process.versions,"node",{value:"${version}"});Object.defineProperty(process,"version",{value:"v${version}"})`;
  return run(process.execPath, ['--import', `data:text/javascript,${patch}`, CHECK]);
}

describe('Node.js version check', () => {
  it('stops at once on Node 20 with one line naming the version needed and how to get it', async () => {
    const failure = await checkAs('20.19.0').then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toBe('');
    const lines = failure?.stderr.trim().split('\n') ?? [];
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /needs Node\.js 22 or newer \(found v20\.19\.0\).*npm i -g --force node@22/,
    );
  });

  it('lets Node 22 through silently', async () => {
    const { stdout, stderr } = await checkAs('22.11.0');
    expect(stdout + stderr).toBe('');
  });

  it('guards every npm script that runs project code', () => {
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    const toolsOnly = new Set(['lint', 'format', 'typecheck']);
    for (const [name, command] of Object.entries(scripts)) {
      if (toolsOnly.has(name)) continue;
      expect(command.startsWith(`node ${CHECK} && `), name).toBe(true);
    }
  });
});
