#!/usr/bin/env node
// Makes sure this package is installed and built, for the folders of this repository that
// depend on it with `file:../packages/api-client` (web/): npm links such a dependency
// without installing its dependencies or building it. They run this before they type-check,
// test or build (npm pre-scripts), so a fresh clone and an edited package both work. Cheap
// when nothing changed: `npm ci` only when node_modules is missing or older than
// package-lock.json, `tsc` only when a source is newer than the build. It does not
// regenerate src/ from openapi.json: that is `npm run generate`, whose output is committed.
//
// Everything it prints goes to stderr: callers may need their stdout clean.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const stdio = /** @type {const} */ (['ignore', 2, 2]);

/** @param {string} path */
const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : -Infinity);

/** @param {string[]} args */
function npm(args) {
  execFileSync('npm', args, { cwd: root, stdio });
}

const installed = join(root, 'node_modules', '.package-lock.json');
if (mtime(installed) < mtime(join(root, 'package-lock.json'))) {
  process.stderr.write('@imgedge/api-client: npm ci\n');
  npm(['ci', '--no-audit', '--no-fund', '--loglevel=error']);
}

const inputs = [
  join(root, 'package.json'),
  join(root, 'tsconfig.json'),
  ...readdirSync(join(root, 'src')).map((name) => join(root, 'src', name)),
];
const newestInput = Math.max(...inputs.map(mtime));
if (mtime(join(root, 'dist', 'index.js')) < newestInput || mtime(join(root, 'dist', 'index.d.ts')) < newestInput) {
  process.stderr.write('@imgedge/api-client: build\n');
  npm(['run', '--silent', 'build']);
}
