// Both of the repository's npm packages as a stranger gets them: packed into tarballs,
// installed into a fresh project (their dependencies from the npm cache, else the
// registry), type-checked there under strict Node.js ESM rules, and run. Catches what the
// in-repository tests cannot: a file missing from `files`, a broken `exports` map,
// declarations that need something only this repository has.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const packages = [join(root, "..", "transform-url"), root];
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

/** Runs a command quietly; its output is in the thrown error when it fails. */
function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

// Type-checked only: the packages' types as a TypeScript consumer sees them.
const CHECK_TS = `
import { createApiClient, type ErrorBody, type ImageList, type ImageMetadata, type Session } from "@imgedge/api-client";
import { transformUrl } from "@imgedge/transform-url";

export async function firstThumbnail(baseUrl: string, token: string): Promise<string | null> {
  const api = createApiClient({ baseUrl, auth: { accessToken: () => token } });
  const { data, error } = await api.GET("/v1/images", { params: { query: { limit: 1 } } });
  if (error) {
    const body: ErrorBody = error;
    throw new Error(body.message);
  }
  const list: ImageList = data;
  const image: ImageMetadata | undefined = list.items[0];
  return image ? transformUrl(baseUrl, image, { width: 200, format: "auto" }) : null;
}

export const session: Session = { access_token: "a", token_type: "Bearer", expires_in: 900 };

// @ts-expect-error: the API has no such path
void createApiClient({ baseUrl: "" }).GET("/v1/nowhere");
`;

// Run: a client against a fake fetch, and a signed URL for the image it returns.
const RUN_MJS = `
import { createApiClient } from "@imgedge/api-client";
import { transformUrl } from "@imgedge/transform-url";

const image = {
  id: "7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01", filename: null, format: "jpeg", width: 10, height: 10,
  frames: 1, bytes: 1, blake3: "0".repeat(64), created_at: "2026-01-01T00:00:00Z", key_epoch: 0,
  url_key: "1".repeat(64), url: "/i/x/y",
};
let authorization = null;
const api = createApiClient({
  baseUrl: "https://images.example.test",
  fetch: async (request) => {
    authorization = request.headers.get("Authorization");
    return Response.json(image);
  },
  auth: { accessToken: () => "t0" },
});
const { data } = await api.GET("/v1/images/{id}", { params: { path: { id: image.id } } });
console.log(JSON.stringify({ authorization, url: transformUrl("https://images.example.test", data, { width: 200 }) }));
`;

it("packs, installs, type-checks and runs both packages", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "imgedge-pack-"));
  try {
    // Built and current (`npm test` built this one; the other builds itself here), so the
    // pack skips the prepack build and prints nothing but its JSON.
    for (const pkg of packages) run(process.execPath, [join(pkg, "scripts", "ensure-built.mjs")], pkg);
    const tarballs = packages.map((pkg) => {
      const [packed] = JSON.parse(
        run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], pkg),
      ) as { filename: string; files: { path: string }[] }[];
      assert.ok(packed);
      const files = packed.files.map((f) => f.path);
      assert.ok(files.includes("dist/index.js") && files.includes("dist/index.d.ts"), files.join(" "));
      assert.ok(!files.some((f) => f.startsWith("src/") || f.startsWith("test")), files.join(" "));
      return `./${packed.filename}`;
    });
    assert.ok(tarballs[1] && readdirSync(dir).includes(tarballs[1].slice(2)));

    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    run(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error", ...tarballs],
      dir,
    );

    writeFileSync(join(dir, "check.ts"), CHECK_TS);
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          lib: ["es2022", "dom"],
          types: [],
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noEmit: true,
        },
        files: ["check.ts"],
      }),
    );
    // Library checks on: the packages' declarations must hold up, not be skipped.
    run(process.execPath, [tsc, "-p", "tsconfig.json"], dir);

    writeFileSync(join(dir, "run.mjs"), RUN_MJS);
    const out = JSON.parse(run(process.execPath, ["run.mjs"], dir)) as { authorization: string; url: string };
    assert.equal(out.authorization, "Bearer t0");
    assert.match(out.url, /^https:\/\/images\.example\.test\/i\/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01\/[\w-]{22}\?width=200$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
