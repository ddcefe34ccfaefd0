// Makes sure a package of this folder is installed and built, for the folders of this
// repository that depend on it with `file:../packages/<name>` (web/, lambda-edge/): npm
// links such a dependency without installing its dependencies or building it. They run each
// package's scripts/ensure-built.mjs (which calls this) before they type-check, test, build
// or bundle (npm pre-scripts), so a fresh clone and an edited package both work. Cheap when
// nothing changed: `npm ci` only when node_modules is missing or older than
// package-lock.json, `tsc` only when a source is newer than the build. It does not
// regenerate a package's generated sources (api-client's `npm run generate`, committed).
//
// Everything it prints goes to stderr: callers may need their stdout clean.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const stdio = /** @type {const} */ (['ignore', 2, 2]);

/** @param {string} path */
const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : -Infinity);

/** @param {string} root the package's folder */
export function ensureBuilt(root) {
  const name = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name;
  /** @param {string[]} args */
  const npm = (args) => execFileSync('npm', args, { cwd: root, stdio });

  const installed = join(root, 'node_modules', '.package-lock.json');
  if (mtime(installed) < mtime(join(root, 'package-lock.json'))) {
    process.stderr.write(`${name}: npm ci\n`);
    npm(['ci', '--no-audit', '--no-fund', '--loglevel=error']);
  }

  const inputs = [
    join(root, 'package.json'),
    join(root, 'tsconfig.json'),
    ...readdirSync(join(root, 'src')).map((file) => join(root, 'src', file)),
  ];
  const newestInput = Math.max(...inputs.map(mtime));
  if (mtime(join(root, 'dist', 'index.js')) < newestInput || mtime(join(root, 'dist', 'index.d.ts')) < newestInput) {
    process.stderr.write(`${name}: build\n`);
    npm(['run', '--silent', 'build']);
  }
}
