// Proof that the Avro reader never compiles source text (DESIGN §6 design (b)): src/avro, bundled
// the way wrangler bundles the Worker, runs inside a V8 context that refuses code generation from
// strings, as deployed workerd does, and decodes every Health Connect sample there.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import vm from "node:vm";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const samplesDir = resolve(root, "../shared/data/health-connect/samples");

async function strictContext() {
  const bundle = await build({
    entryPoints: [resolve(root, "src/avro/index.ts")],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "avro",
    platform: "neutral",
    target: "es2022",
    logLevel: "silent",
  });
  const source = bundle.outputFiles[0]?.text ?? "";
  const context = vm.createContext(
    { TextDecoder, TextEncoder, DecompressionStream, CompressionStream, ReadableStream, Blob, Response, crypto },
    { codeGeneration: { strings: false, wasm: false } },
  );
  vm.runInContext(source, context);
  return context;
}

describe("the Avro reader in a context without code generation", () => {
  it("refuses eval and new Function there", async () => {
    const context = await strictContext();
    expect(() => vm.runInContext("new Function('return 1')()", context)).toThrow(/Code generation from strings disallowed/);
    expect(() => vm.runInContext("eval('1')", context)).toThrow(/Code generation from strings disallowed/);
  });

  it("decodes every sample there, and writes and reads a deflate file", async () => {
    const context = await strictContext();
    const decodeAll = vm.runInContext(
      `(async (bytes, codec) => {
        const read = async (file) => {
          const container = await avro.openContainer(new Blob([file]).stream());
          const records = [];
          for await (const block of container.blocks(avro.createDecoder(container.header.schema))) records.push(...block.records);
          return { schema: container.header.schema, records };
        };
        const first = await read(bytes);
        const again = await read(await avro.writeContainer(first.schema, first.records, { codec }));
        return JSON.stringify([first.records, again.records]);
      })`,
      context,
    ) as (bytes: Uint8Array, codec: string) => Promise<string>;
    const names = readdirSync(samplesDir).filter((name) => name.endsWith(".avro"));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const [records, again] = JSON.parse(await decodeAll(new Uint8Array(readFileSync(resolve(samplesDir, name))), "deflate"));
      expect(records.length, name).toBeGreaterThan(0);
      expect(again, name).toEqual(records);
    }
  });
});
