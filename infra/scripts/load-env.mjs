// Preloaded by the npm scripts of the local tools (`tsx --import ./infra/scripts/load-env.mjs`):
// loads `.env` from the current folder — the project root, where npm runs scripts — into
// process.env with Node's own parser (`process.loadEnvFile`, the format of `--env-file`).
// Variables already set in the environment win over the file. No file: nothing happens.
// (Not Node's `--env-file-if-exists=.env`: under tsx it prints ".env not found" for each
// thread when there is no file.) `npm test` does not use it: the tests never read a developer's .env.
import { existsSync } from 'node:fs';

if (existsSync('.env')) process.loadEnvFile('.env');
