// The committed generated files are what openapi.json gives now: a changed document
// without `npm run generate` fails here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { it } from "node:test";

const root = fileURLToPath(new URL("..", import.meta.url));

it("src/schema.ts and src/public-operations.ts are generated from openapi.json", () => {
  const run = spawnSync(process.execPath, ["scripts/generate.mjs", "--check"], { cwd: root, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
});
