// Stops a script at once on a Node.js older than the one the project needs (package.json
// `engines`), with one line saying which version is needed and how to get it. Plain
// JavaScript without imports beyond Node's own, so it runs on any old Node.
import { readFileSync } from 'node:fs';

const wanted = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  .engines.node;
const minimum = Number(/(\d+)/.exec(wanted)?.[1] ?? 0);
const major = Number(process.versions.node.split('.')[0]);
if (major < minimum) {
  console.error(
    `This project needs Node.js ${minimum} or newer (found ${process.version}): install it with \`nvm install ${minimum}\` or \`npm i -g --force node@${minimum}\`, then run the command again.`,
  );
  process.exit(1);
}
