#!/usr/bin/env node
// Builds the web app (web/) into Workers static assets (dist/web, `[assets]` in wrangler.toml):
// every script and stylesheet gets a content hash in its name, so the Worker serves them with a
// year-long immutable cache, and each page's HTML (never cached) names the current ones.
//   node scripts/build-web.mjs           one build
//   node scripts/build-web.mjs --watch   rebuild on every change (npm run dev)
// Pages: web/<page>.html templates whose `<!-- entry:NAME -->` marker becomes the <script> and
// <link> tags of the bundle built from web/src/NAME/main.ts.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const webDir = join(root, "web");
const outDir = join(root, "dist/web");
const assetsDir = join(outDir, "assets");
const watch = process.argv.includes("--watch");

const pages = readdirSync(webDir).filter((name) => name.endsWith(".html"));
const entryOf = (html) => [...html.matchAll(/<!-- entry:([a-z-]+) -->/g)].map((match) => match[1]);
const entries = [...new Set(pages.flatMap((page) => entryOf(readFileSync(join(webDir, page), "utf8"))))];

/** After each build: the pages, naming this build's files; files no page needs any more removed. */
const writePages = {
  name: "pulse-pages",
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length > 0 || result.metafile === undefined) return;
      const tags = new Map();
      const keep = new Set();
      for (const [file, output] of Object.entries(result.metafile.outputs)) {
        keep.add(basename(file));
        if (output.entryPoint === undefined || !file.endsWith(".js")) continue;
        // The entry's directory names it: web/src/app/main.ts is the entry "app".
        const entry = output.entryPoint.split("/").at(-2);
        const own = [`<script type="module" src="/assets/${basename(file)}"></script>`];
        if (output.cssBundle !== undefined) own.unshift(`<link rel="stylesheet" href="/assets/${basename(output.cssBundle)}">`);
        tags.set(entry, own);
      }
      for (const page of pages) {
        const html = readFileSync(join(webDir, page), "utf8").replace(/<!-- entry:([a-z-]+) -->/g, (_, entry) =>
          (tags.get(entry) ?? []).join("\n    "),
        );
        writeFileSync(join(outDir, page), html);
      }
      for (const name of readdirSync(assetsDir)) if (!keep.has(name)) rmSync(join(assetsDir, name));
      if (watch) console.log(`web: rebuilt ${entries.join(", ")} (${new Date().toLocaleTimeString()})`);
    });
  },
};

// Never emptied first: another dev server or test run on this checkout may be serving these files
// right now. Names are content hashes, so a build only adds files, and each build's end removes
// the ones no page names any more.
mkdirSync(assetsDir, { recursive: true });
// Nothing in dist/web but what the Worker serves: keep wrangler from uploading anything else.
writeFileSync(join(outDir, ".assetsignore"), ".assetsignore\n");

const options = {
  entryPoints: entries.map((entry) => ({ in: join(webDir, "src", entry, "main.ts"), out: entry })),
  outdir: assetsDir,
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  assetNames: "[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["chrome120", "firefox120", "safari17"],
  minify: true,
  sourcemap: false,
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
  plugins: [writePages],
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log(`web: watching ${relative(root, webDir)} → ${relative(root, outDir)}`);
} else {
  const result = await esbuild.build(options);
  if (result.errors.length > 0) process.exit(1);
}
