// Pulse's own TypeScript loaded into Node (bench, the OpenAPI generator, token-key rotation):
// bundled with esbuild the way wrangler bundles the Worker, so Node runs the very code the Worker
// runs, written to a temporary module, imported, and the file removed.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/**
 * Bundles a TypeScript entry (its imports resolved from the repository root) into a temporary
 * module and imports it. `options` are further esbuild options, e.g. the workerd `conditions`.
 */
export async function bundleForNode(contents, options = {}) {
  const { build } = require("esbuild");
  const workDir = mkdtempSync(join(tmpdir(), "pulse-modules-"));
  try {
    const outfile = join(workDir, "pulse.mjs");
    await build({
      stdin: { contents, resolveDir: root, loader: "ts", sourcefile: "entry.ts" },
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      outfile,
      logLevel: "silent",
      ...options,
    });
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
