// Pulse's own TypeScript (the Avro reader and writer, the Health Connect mapping) loaded into Node
// for the bench: bundled with esbuild the way wrangler bundles the Worker, so Node runs the very
// code the Worker runs. Bundled once per process into a temporary file, then imported.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

const ENTRY = `
export * from "./src/avro/index.ts";
export { mapRecords } from "./src/health-connect/map-record.ts";
export { readerSchemaFor, recordTypeFromSchemaName } from "./src/health-connect/record-types.ts";
`;

let loaded;

/** `{ openContainer, createDecoder, parseSchema, writeContainer, encodeDatum, mapRecords, readerSchemaFor, … }` */
export function loadPulseModules() {
  loaded ??= bundle();
  return loaded;
}

function bundle() {
  return bundleForNode(ENTRY);
}

/**
 * Bundles a TypeScript entry (its imports resolved from the repository root) into a temporary
 * module and imports it. `options` are further esbuild options, e.g. the workerd `conditions`.
 */
export async function bundleForNode(contents, options = {}) {
  const { build } = require("esbuild");
  const workDir = mkdtempSync(join(tmpdir(), "pulse-bench-modules-"));
  try {
    const outfile = join(workDir, "pulse.mjs");
    await build({
      stdin: { contents, resolveDir: root, loader: "ts", sourcefile: "bench-entry.ts" },
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
