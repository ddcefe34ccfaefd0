// `npm run bundle`: the function as deployed, one self-contained ES module (the handler and
// the shared @imgedge/transform-url package with its BLAKE3 dependency, nothing imported at
// run time), for Lambda@Edge's Node.js runtime with the handler `index.handler`. The CDK
// stack deploys the directory it is written to (cdk/lib/edge-bundle.ts).

import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

/** The bundle `npm run bundle` writes. */
export const BUNDLE = fileURLToPath(new URL('dist/index.mjs', import.meta.url));

/**
 * Bundles src/index.mjs into `outfile`.
 * @param {string} outfile
 */
export async function bundle(outfile) {
  await build({
    entryPoints: [fileURLToPath(new URL('src/index.mjs', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    // Lambda@Edge's oldest Node.js runtime the function supports (the stack uses 22).
    target: 'node20',
    // The handler's export is its interface: names stay readable in stack traces.
    minify: false,
    legalComments: 'inline',
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle(BUNDLE);
}
