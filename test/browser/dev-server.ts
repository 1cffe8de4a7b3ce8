// Starts Pulse exactly as a person does (`node scripts/dev.mjs`, DESIGN §10) on a free port with
// fresh local state, and stops the whole process group (dev.mjs, wrangler, workerd) afterwards.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../scripts/free-port.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// scripts/dev.mjs refuses Node < 22.12, and wrangler's `#!/usr/bin/env node` finds node on PATH:
// like `npm run dev`, run on the project's own Node 24 with node_modules/.bin first on PATH.
const BIN = join(ROOT, "node_modules/.bin");
const NODE = join(BIN, "node");
const OUTPUT_LIMIT = 20_000;

export interface DevServer {
  url: string;
  /** The server's local state (D1, Durable Objects, R2): `npm run admin:grant` writes there with PERSIST_DIR. */
  persistDir: string;
  /** Everything the dev server's processes (dev.mjs, wrangler, workerd, enclave-bridge) printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Enough for every line a test run prints; beyond it the oldest output is dropped. */
const FULL_OUTPUT_LIMIT = 20_000_000;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopGroup(child: ChildProcess): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  if (!exited(child)) {
    const gone = new Promise<void>((done) => child.once("exit", () => done()));
    signalGroup("SIGTERM");
    await Promise.race([gone, sleep(10_000)]);
  }
  // workerd may outlive its parent; whatever is left of the group goes now.
  signalGroup("SIGKILL");
}

/** Resolves once `GET /health` answers 200; rejects with the server's output if it never does. */
export async function startDevServer({ startupMs = 150_000 } = {}): Promise<DevServer> {
  const port = await freePort();
  const persistDir = mkdtempSync(join(tmpdir(), "pulse-browser-"));
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  let full = "";
  const child = spawn(NODE, ["scripts/dev.mjs"], {
    cwd: ROOT,
    // The tests change no web source: build the app once, without a watcher spending CPU.
    env: {
      ...process.env,
      PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}`,
      PORT: String(port),
      PERSIST_DIR: persistDir,
      WEB_WATCH: "off",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const collect = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-OUTPUT_LIMIT);
    full = (full + text).slice(-FULL_OUTPUT_LIMIT);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });

  const stop = async () => {
    await stopGroup(child);
    rmSync(persistDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + startupMs;
  let lastAttempt = "no attempt yet";
  while (Date.now() < deadline) {
    if (spawnError || exited(child)) break;
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return { url, persistDir, stop, output: () => full };
      lastAttempt = `GET /health answered ${res.status}: ${(await res.text()).slice(0, 500)}`;
    } catch (error) {
      lastAttempt = `GET /health failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    await sleep(500);
  }
  await stop();
  const why = spawnError
    ? `could not spawn ${NODE}: ${spawnError.message}`
    : exited(child)
      ? `the dev server exited (code ${child.exitCode}, signal ${child.signalCode})`
      : `GET ${url}/health did not answer 200 within ${startupMs / 1000}s (${lastAttempt})`;
  throw new Error(`Pulse dev server did not come up: ${why}.\n--- server output ---\n${output}`);
}
