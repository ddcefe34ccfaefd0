// The Lambda@Edge function's code asset: the one self-contained file that `npm run bundle`
// makes in lambda-edge/ (esbuild), never lambda-edge/src/ itself, whose modules import each
// other and the shared transform URL package. Synthesis builds it (once per process), so that
// a template can never carry a bundle older than the sources: `cdk synth`, `cdk deploy` and
// the tests all go through here.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The edge function's package. */
export const EDGE_FUNCTION_PACKAGE = path.join(here, '..', '..', 'lambda-edge');

/** What `npm run bundle` writes: the directory deployed as the function's code. */
export const EDGE_FUNCTION_BUNDLE_DIR = path.join(EDGE_FUNCTION_PACKAGE, 'dist');

/** The handler's file in it (the function's handler is `index.handler`). */
export const EDGE_FUNCTION_BUNDLE = path.join(EDGE_FUNCTION_BUNDLE_DIR, 'index.mjs');

let built = false;

/** Builds the bundle (first call in a process only) and returns its directory. */
export function edgeFunctionBundleDir(): string {
  if (!built) {
    if (!existsSync(path.join(EDGE_FUNCTION_PACKAGE, 'node_modules'))) {
      throw new Error(
        'lambda-edge/node_modules is missing: run `npm ci` in lambda-edge/ (scripts/test-aws does) before synthesising',
      );
    }
    // npm's own output goes to stderr: a CDK app's stdout is no place for it.
    execFileSync('npm', ['run', '--silent', 'bundle'], {
      cwd: EDGE_FUNCTION_PACKAGE,
      stdio: ['ignore', process.stderr, process.stderr],
    });
    if (!existsSync(EDGE_FUNCTION_BUNDLE)) {
      throw new Error(`\`npm run bundle\` in lambda-edge/ did not write ${path.relative(EDGE_FUNCTION_PACKAGE, EDGE_FUNCTION_BUNDLE)}`);
    }
    built = true;
  }
  return EDGE_FUNCTION_BUNDLE_DIR;
}
