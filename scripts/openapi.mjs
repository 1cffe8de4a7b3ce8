#!/usr/bin/env node
// The OpenAPI document and the typed client generated from it (README "API contract and client").
//
//   node scripts/openapi.mjs generate   writes sdk/client/openapi.json and the types generated from it,
//                                       sdk/client/schema.d.ts (openapi-typescript)
//   node scripts/openapi.mjs check      regenerates both into a temporary directory and fails when the
//                                       committed copies differ (run by `npm test`)
//   node scripts/openapi.mjs print      prints the document
//
// The document is built from `createApp()` exactly as /openapi.json builds it
// (`getOpenAPI31Document(OPENAPI_DOCUMENT)`): src/app.ts is bundled with esbuild for Node and
// imported. Nothing here serves a request, so the few Worker-only modules the route graph imports
// (`cloudflare:workers`, for the Durable Object base class) are stubbed. A worker test
// (test/worker/openapi.test.ts) checks that the served document equals the committed file.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleForNode } from "./bundle-for-node.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const CLIENT_DIR = join(root, "sdk/client");
const DOCUMENT = "openapi.json";
const SCHEMA = "schema.d.ts";
const GENERATED_FILES = [DOCUMENT, SCHEMA];

const ENTRY = `
import { createApp } from "./src/app.ts";
import { OPENAPI_DOCUMENT } from "./src/http/openapi.ts";
export const document = createApp().getOpenAPI31Document(OPENAPI_DOCUMENT);
`;

const workersStub = {
  name: "cloudflare-workers-stub",
  setup(build) {
    build.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, namespace: "cloudflare-stub" }));
    build.onLoad({ filter: /.*/, namespace: "cloudflare-stub" }, () => ({
      contents: "export class DurableObject {} export class WorkerEntrypoint {} export const env = {};",
      loader: "js",
    }));
  },
};

/** The document /openapi.json serves, as a JavaScript object. */
export async function buildDocument() {
  const { document } = await bundleForNode(ENTRY, {
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "import"],
    plugins: [workersStub],
  });
  return document;
}

/** The committed file's text: two-space JSON and a final newline. */
export function documentText(document) {
  return `${JSON.stringify(document, null, 2)}\n`;
}

function run(args, what, input) {
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: "utf8",
    input,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (result.status !== 0) throw new Error(`${what} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** `text` formatted as Biome formats the committed file `file`, so `npm run lint` accepts it as is. */
function formatted(file, text) {
  const biome = require.resolve("@biomejs/biome/bin/biome");
  return run([biome, "format", `--stdin-file-path=${join("sdk/client", file)}`], "biome format", text);
}

/** Writes the document and the types generated from it under `dir`. */
async function generate(dir) {
  const documentPath = join(dir, DOCUMENT);
  writeFileSync(documentPath, formatted(DOCUMENT, documentText(await buildDocument())));
  writeFileSync(join(dir, SCHEMA), formatted(SCHEMA, await generateTypes(documentPath)));
}

/**
 * The TypeScript types of the document (openapi-typescript). Raw bodies (`format: binary`, the
 * upload route's Avro file) are typed `Blob`, what a client sends, rather than the default `string`.
 */
async function generateTypes(documentPath) {
  // The generator needs TypeScript 5's compiler API; sdk/client (a workspace) pins its own copy.
  const clientRequire = createRequire(join(CLIENT_DIR, "package.json"));
  const ts = clientRequire("typescript");
  const generator = clientRequire("openapi-typescript");
  const ast = await generator.default(pathToFileURL(documentPath), {
    alphabetize: true,
    transform: (schema) => (schema.format === "binary" ? ts.factory.createTypeReferenceNode("Blob") : undefined),
  });
  return `${generator.COMMENT_HEADER}${generator.astToString(ast)}`;
}

/** The generated files whose committed copy differs from a fresh one. */
function differences(fresh) {
  return GENERATED_FILES.filter((file) => readOrNull(join(CLIENT_DIR, file)) !== readOrNull(join(fresh, file)));
}

function readOrNull(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

async function main(command) {
  if (command === "print") {
    process.stdout.write(documentText(await buildDocument()));
    return 0;
  }
  if (command === "generate") {
    await generate(CLIENT_DIR);
    console.log(`wrote ${GENERATED_FILES.map((file) => relative(root, join(CLIENT_DIR, file))).join(" and ")}`);
    return 0;
  }
  if (command === "check") {
    const fresh = mkdtempSync(join(tmpdir(), "pulse-sdk-check-"));
    try {
      await generate(fresh);
      const changed = differences(fresh);
      if (changed.length === 0) return 0;
      console.error(
        `sdk/client is out of date with the API (${changed.join(", ")}): run \`npm run sdk:generate\` and commit the result`,
      );
      return 1;
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }
  console.error("usage: node scripts/openapi.mjs generate|check|print");
  return 2;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv[2]);
}
