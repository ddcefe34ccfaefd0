/**
 * The real local stack for the end-to-end test: `imgedge dev` with a fresh database, Redis
 * prefix and data directory, serving the built client from web/dist.
 *
 * Environment: IMGEDGE_BIN (default: the debug build under CARGO_TARGET_DIR, or
 * $XDG_CACHE_HOME/imgedge/target, or ~/.cache/imgedge/target), DATABASE_URL (only its
 * server is used; the database is new for each run), REDIS_URL.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const READY = /imgedge is running at (\S+)/;

export interface Stack {
  /** The edge's URL, without a trailing slash: the one address of the stack. */
  readonly url: string;
  /** Prometheus text of the whole process (the edge's /metrics). */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

function defaultBinary(): string {
  const target =
    process.env.CARGO_TARGET_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "imgedge", "target");
  return join(target, "debug", "imgedge");
}

/** `url` with its database replaced by `name`. */
function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

function dropDatabase(serverUrl: string, name: string): Promise<void> {
  // Best effort: without psql the database stays behind (it is small, and named for the run).
  return new Promise((resolve) => {
    execFile(
      "psql",
      [withDatabase(serverUrl, "postgres"), "-qAtc", `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`],
      { timeout: 15_000 },
      () => resolve(),
    );
  });
}

export async function startStack(options: { webDir: string; logFile: string }): Promise<Stack> {
  const binary = process.env.IMGEDGE_BIN ?? defaultBinary();
  if (!existsSync(binary)) {
    throw new Error(`imgedge binary not found at ${binary}: build it (cargo build --bin imgedge) or set IMGEDGE_BIN`);
  }
  if (!existsSync(join(options.webDir, "index.html"))) {
    throw new Error(`${options.webDir} has no index.html: run npm run build first`);
  }
  const run = `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const database = `imgedge_web_e2e_${run}`;
  const serverUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const dataDir = await mkdtemp(join(tmpdir(), "imgedge-web-e2e-"));
  const log = createWriteStream(options.logFile);

  const child: ChildProcess = spawn(
    binary,
    ["dev", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--web-dir", options.webDir],
    {
      env: {
        ...process.env,
        DATABASE_URL: withDatabase(serverUrl, database),
        REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
        IMGEDGE_REDIS_PREFIX: `web-e2e-${run}:`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    await dropDatabase(serverUrl, database);
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(() => reject(new Error("imgedge dev did not start within 90 s")), 90_000);
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        log.write(chunk);
        const match = READY.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1].replace(/\/$/, ""));
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`imgedge dev exited (${code}) before it was ready`));
      });
    });
    return {
      url,
      metrics: async () => (await fetch(`${url}/metrics`)).text(),
      stop,
    };
  } catch (error) {
    await stop();
    const tail = (await readFile(options.logFile, "utf8").catch(() => "")).split("\n").slice(-30).join("\n");
    throw new Error(`${(error as Error).message}\n--- imgedge dev log (tail) ---\n${tail}`, { cause: error });
  }
}

/** The sum of a Prometheus counter's samples (all label sets). */
export function counter(metrics: string, name: string): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

export const webRoot = fileURLToPath(new URL("..", import.meta.url));
