#!/usr/bin/env node
// Generates this package's code from openapi.json, the API's committed OpenAPI document:
//
// - src/schema.ts: the types, by openapi-typescript (`paths`, `components`, `operations`,
//   and each schema at the top level under its own name: `ImageMetadata`, `Session`, …);
// - src/public-operations.ts: the operations that take no bearer token, which the types
//   cannot carry, for the client's auth middleware.
//
// `npm run generate` writes both; `npm run check-generated` (this script with --check)
// writes nothing and fails when either differs from what the document gives now. Only the
// document and the locked openapi-typescript decide the output, so it is reproducible.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { COMMENT_HEADER, astToString } from 'openapi-typescript';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const documentPath = join(root, 'openapi.json');
const check = process.argv.includes('--check');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The types: the text `openapi-typescript openapi.json --root-types --root-types-no-schema-prefix` writes. */
async function schemaModule() {
  const ast = await openapiTS(pathToFileURL(documentPath), {
    rootTypes: true,
    rootTypesNoSchemaPrefix: true,
    silent: true,
  });
  return `${COMMENT_HEADER}${astToString(ast)}`;
}

/**
 * "METHOD /path" of every operation whose security requirement (its own, else the
 * document's) is absent, empty, or allows no authentication (`{}`).
 */
function publicOperationsModule() {
  const document = JSON.parse(readFileSync(documentPath, 'utf8'));
  const operations = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item?.[method];
      if (!operation) continue;
      const security = operation.security ?? document.security ?? [];
      const optional = security.length === 0 || security.some((r) => Object.keys(r).length === 0);
      if (optional) operations.push(`${method.toUpperCase()} ${path}`);
    }
  }
  operations.sort();
  const lines = operations.map((operation) => `  ${JSON.stringify(operation)},\n`).join('');
  return `${COMMENT_HEADER}/** The operations that take no bearer token ("METHOD /path"), from their OpenAPI \`security\`. */
export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set([
${lines}]);
`;
}

const outputs = [
  ['src/schema.ts', await schemaModule()],
  ['src/public-operations.ts', publicOperationsModule()],
];

let stale = 0;
for (const [name, text] of outputs) {
  const path = join(root, name);
  if (check) {
    let current = null;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // Missing: stale.
    }
    if (current !== text) {
      process.stderr.write(`${name} is not what openapi.json gives now: run \`npm run generate\`\n`);
      stale += 1;
    }
  } else {
    writeFileSync(path, text);
    process.stderr.write(`wrote ${name}\n`);
  }
}
process.exit(stale === 0 ? 0 : 1);
