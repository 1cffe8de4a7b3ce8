// The bounded raw-deflate inflater (src/avro/inflate.ts, RFC 1951) against zlib: every level and
// strategy zlib offers, stored/fixed/dynamic blocks, corrupted streams, and the output bound.
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { AvroError } from "../../src/avro/errors";
import { inflateRaw } from "../../src/avro/inflate";
import { int, seeded } from "./avro-random";

const rng = seeded(0x1f1a7e);

function corpus(): Array<[string, Uint8Array]> {
  const text = new TextEncoder().encode(
    Array.from({ length: 4000 }, (_, i) => `{"id":"00000000-${i}","bpm":${60 + (i % 40)},"t":${1759968000000 + i * 6000}}`).join(
      "\n",
    ),
  );
  const random = Uint8Array.from({ length: 70_000 }, () => int(rng, 0, 255));
  const skewed = Uint8Array.from({ length: 100_000 }, () => (rng() < 0.9 ? int(rng, 0, 3) : int(rng, 0, 255)));
  const runs = Uint8Array.from({ length: 300_000 }, (_, i) => (Math.floor(i / 1000) % 7) * 13);
  return [
    ["empty", new Uint8Array(0)],
    ["one byte", new Uint8Array([42])],
    ["json-like text", text],
    ["random bytes", random],
    ["skewed bytes", skewed],
    ["long runs", runs],
    ["zeros", new Uint8Array(200_000)],
  ];
}

const { constants } = zlib;
const settings: Array<[string, zlib.ZlibOptions]> = [
  ["level 0 (stored blocks)", { level: 0 }],
  ["level 1", { level: 1 }],
  ["level 6", { level: 6 }],
  ["level 9", { level: 9 }],
  ["fixed codes", { strategy: constants.Z_FIXED }],
  ["Huffman only", { strategy: constants.Z_HUFFMAN_ONLY }],
  ["run-length", { strategy: constants.Z_RLE }],
  ["filtered, small window", { strategy: constants.Z_FILTERED, windowBits: 9, memLevel: 1 }],
];

describe("inflateRaw", () => {
  for (const [name, options] of settings) {
    it(`inflates what zlib deflates: ${name}`, () => {
      for (const [label, input] of corpus()) {
        const compressed = zlib.deflateRawSync(input, options);
        expect(Buffer.from(inflateRaw(compressed, 1 << 30, "the bound")).equals(Buffer.from(input)), label).toBe(true);
      }
    });
  }

  it("inflates streams made of many flushed blocks", () => {
    const parts = corpus().map(([, input]) => input);
    const deflate = zlib.deflateRawSync(Buffer.concat(parts), { level: 6, chunkSize: 1024 });
    const flushed = Buffer.concat([
      ...parts.map((part, i) => zlib.deflateRawSync(part, { finishFlush: constants.Z_FULL_FLUSH, level: i % 10 })),
      zlib.deflateRawSync(new Uint8Array(0)),
    ]);
    expect(Buffer.from(inflateRaw(deflate, 1 << 30, "")).equals(Buffer.concat(parts))).toBe(true);
    expect(Buffer.from(inflateRaw(flushed, 1 << 30, "")).equals(Buffer.concat(parts))).toBe(true);
  });

  it("stops with LIMIT_EXCEEDED once the output would pass the bound, and not before", () => {
    const input = corpus()[2]?.[1] ?? new Uint8Array(0);
    const compressed = zlib.deflateRawSync(input);
    expect(inflateRaw(compressed, input.length, "").length).toBe(input.length);
    expect(() => inflateRaw(compressed, input.length - 1, "the bound")).toThrow(
      expect.objectContaining({ code: "LIMIT_EXCEEDED", message: "block inflates past the bound" }),
    );
  });

  it("never crashes or loops on corrupted streams: CORRUPT_DATA or LIMIT_EXCEEDED, and zlib's output when both accept", () => {
    const inputs = corpus().slice(1);
    let accepted = 0;
    for (let n = 0; n < 3000; n++) {
      const [, input] = inputs[n % inputs.length] ?? ["", new Uint8Array(0)];
      const compressed = new Uint8Array(zlib.deflateRawSync(input.subarray(0, 5000), settings[n % settings.length]?.[1]));
      const mutated = compressed.slice(0, n % 5 === 0 ? int(rng, 0, compressed.length) : compressed.length);
      for (let flips = int(rng, 1, 3); flips > 0 && mutated.length > 0; flips--) {
        const at = int(rng, 0, mutated.length - 1);
        mutated[at] = (mutated[at] ?? 0) ^ (1 << int(rng, 0, 7));
      }
      let ours: Uint8Array | AvroError;
      try {
        ours = inflateRaw(mutated, 64 * 1024, "64 KiB");
      } catch (error) {
        expect(error).toBeInstanceOf(AvroError);
        ours = error as AvroError;
      }
      if (ours instanceof AvroError) {
        expect(["CORRUPT_DATA", "LIMIT_EXCEEDED"]).toContain(ours.code);
        continue;
      }
      let theirs: Buffer | undefined;
      try {
        theirs = zlib.inflateRawSync(mutated, { finishFlush: constants.Z_SYNC_FLUSH });
      } catch {}
      if (theirs) {
        accepted++;
        expect(Buffer.from(ours).equals(theirs), `case ${n}`).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it("refuses truncated streams and bytes after the final block", () => {
    const compressed = zlib.deflateRawSync(corpus()[2]?.[1] ?? new Uint8Array(0));
    for (const cut of [1, 10, compressed.length >> 1, compressed.length - 1]) {
      expect(() => inflateRaw(compressed.subarray(0, cut), 1 << 30, ""), `cut at ${cut}`).toThrow(
        expect.objectContaining({ code: "CORRUPT_DATA" }),
      );
    }
    expect(() => inflateRaw(Buffer.concat([compressed, Buffer.from([0])]), 1 << 30, "")).toThrow(
      expect.objectContaining({ code: "CORRUPT_DATA" }),
    );
  });
});
