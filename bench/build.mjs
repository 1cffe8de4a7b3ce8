// Bundles a Worker entry exactly as `wrangler deploy` would (`--dry-run --outdir`), and measures the
// gzip size of what would be uploaded: the modules, not source maps or wrangler's README.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const BUILD_TIMEOUT_MS = 90_000;
const MODULE_FILE = /\.(m?js|cjs|wasm|bin|txt|html|sql)$/;
const METAFILE = "bundle-meta.json";

/** Children still running, so run.mjs can stop them on Ctrl-C or failure. */
export const runningBuilds = new Set();

/**
 * Runs `wrangler deploy --dry-run --outdir <outDir> [entry]` with the project's wrangler.toml.
 * Resolves with the emitted module file names; rejects with wrangler's output when it fails.
 */
export function buildWorker({ root, outDir, entry }) {
  const wrangler = resolve(root, "node_modules/wrangler/bin/wrangler.js");
  const args = [
    wrangler,
    "deploy",
    "--dry-run",
    "--outdir",
    outDir,
    "--config",
    "wrangler.toml",
    "--metafile",
    join(outDir, METAFILE),
  ];
  if (entry) args.push(entry);
  return new Promise((resolvePromise, reject) => {
    // process.execPath: the same Node that runs the bench (wrangler needs >= 22).
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    runningBuilds.add(child);
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), BUILD_TIMEOUT_MS);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      runningBuilds.delete(child);
      if (code === 0) {
        resolvePromise(moduleFiles(outDir));
        return;
      }
      const how = signal ? `was stopped by ${signal}` : `exited with ${code}`;
      reject(new Error(`wrangler deploy --dry-run ${entry ?? "(main)"} ${how}:\n${output.trim()}`));
    });
  });
}

function moduleFiles(outDir) {
  const files = readdirSync(outDir).filter((name) => MODULE_FILE.test(name));
  if (files.length === 0) throw new Error(`wrangler wrote no module into ${outDir}`);
  return files;
}

/** Raw and gzip (default level, as wrangler reports it) byte counts of the emitted modules. */
export function bundleSize(outDir, files) {
  let raw = 0;
  let gzip = 0;
  for (const name of files) {
    const bytes = readFileSync(join(outDir, name));
    raw += bytes.byteLength;
    gzip += gzipSync(bytes).byteLength;
  }
  return { files, raw, gzip };
}

/** The package (or source folder) an esbuild input path belongs to. */
function owner(inputPath) {
  const parts = inputPath.split("node_modules/");
  if (parts.length === 1) return inputPath.split("/").slice(0, 2).join("/");
  const tail = parts.at(-1) ?? "";
  return tail
    .split("/")
    .slice(0, tail.startsWith("@") ? 2 : 1)
    .join("/");
}

/** The largest contributors to the bundle, by bytes in the (unminified) output. */
export function bundleComposition(outDir, top = 5) {
  const meta = JSON.parse(readFileSync(join(outDir, METAFILE), "utf8"));
  const bytes = new Map();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs ?? {}))
      bytes.set(owner(input), (bytes.get(owner(input)) ?? 0) + bytesInOutput);
  }
  return [...bytes.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .map(([name, size]) => ({ name, bytes: size }));
}
