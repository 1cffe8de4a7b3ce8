// Object container files (Avro 1.11 "Object Container Files") read by src/avro: the Health Connect
// samples against avsc, deflate both ways, streaming, and hostile files each refused with its code.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import avro from "avsc";
import { describe, expect, it } from "vitest";
import {
  type AvroContainerOptions,
  AvroError,
  type AvroSchema,
  createDecoder,
  DEFAULT_AVRO_LIMITS,
  openContainer,
  parseSchema,
  schemaFullName,
  writeContainer,
} from "../../src/avro/index";
import { ByteSink } from "../../src/avro/write-sink";
import { plain, toAvsc } from "./avro-random";

const shared = resolve(import.meta.dirname, "../../../shared/data/health-connect");
const sampleNames = readdirSync(`${shared}/samples`).filter((name) => name.endsWith(".avro"));
const sample = (name: string) => new Uint8Array(readFileSync(`${shared}/samples/${name}`));
const readerSchemaFor = (fullName: string) =>
  parseSchema(readFileSync(`${shared}/schemas/${fullName.split(".").pop()}.avsc`, "utf8"));

/** A stream handing out `chunk`-byte pieces on demand, recording how much was pulled and whether it was cancelled. */
function streamOf(bytes: Uint8Array, chunk = 64 * 1024) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(state.pulled, state.pulled + chunk));
      state.pulled = Math.min(bytes.length, state.pulled + chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

async function readAll(bytes: Uint8Array, options: AvroContainerOptions & { chunk?: number; reader?: AvroSchema } = {}) {
  const container = await openContainer(streamOf(bytes, options.chunk).stream, options);
  const records: unknown[] = [];
  const decoder = createDecoder(container.header.schema, options.reader ?? container.header.schema);
  for await (const block of container.blocks(decoder)) records.push(...block.records);
  return { header: container.header, records };
}

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (error) {
    return error instanceof AvroError ? error.code : String(error);
  }
  return undefined;
}

async function avscRecords(bytes: Uint8Array): Promise<unknown[]> {
  const records: unknown[] = [];
  await new Promise((done, fail) =>
    Readable.from([Buffer.from(bytes)])
      .pipe(new avro.streams.BlockDecoder())
      .on("data", (record: unknown) => records.push(record))
      .on("end", done)
      .on("error", fail),
  );
  return records;
}

/** A container header with the given entries (`avro.schema` JSON, `avro.codec`, …) and sync marker. */
function header(entries: Record<string, string | Uint8Array>, sync = new Uint8Array(16).fill(7)): ByteSink {
  const sink = new ByteSink();
  sink.writeRaw(new TextEncoder().encode("Obj\u0001"));
  const keys = Object.keys(entries);
  sink.writeLong(keys.length);
  for (const key of keys) {
    const value = entries[key] ?? "";
    sink.writeString(key);
    sink.writeBytes(typeof value === "string" ? new TextEncoder().encode(value) : value);
  }
  sink.writeLong(0);
  sink.writeRaw(sync);
  return sink;
}

function block(sink: ByteSink, count: number, data: Uint8Array, sync = new Uint8Array(16).fill(7)): ByteSink {
  sink.writeLong(count);
  sink.writeLong(data.length);
  sink.writeRaw(data);
  sink.writeRaw(sync);
  return sink;
}

const longSchema = JSON.stringify({ type: "record", name: "L", fields: [{ name: "v", type: "long" }] });
const stringSchema = JSON.stringify({ type: "record", name: "S", fields: [{ name: "v", type: "string" }] });

/** Raw deflate of `mebibytes` MiB of zeros, built from one 1 MiB segment repeated (no 1 GiB buffer). */
function zeroBomb(mebibytes: number): Uint8Array {
  const zeros = new Uint8Array(1 << 20);
  const flush = { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 9 };
  const first = zlib.deflateRawSync(zeros, flush);
  // With the window already full of zeros, every further MiB compresses to the same bytes.
  const steady = zlib.deflateRawSync(zeros, { ...flush, dictionary: zeros.subarray(0, 32 * 1024) });
  return Buffer.concat([first, ...Array<Buffer>(mebibytes - 1).fill(steady), zlib.deflateRawSync(new Uint8Array(0))]);
}

describe("Health Connect samples", () => {
  it("finds the samples", () => {
    expect(sampleNames.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of sampleNames) {
    it(`${name} decodes as avsc decodes it, with its writer schema and with the published reader schema`, async () => {
      const bytes = sample(name);
      const theirs = plain(await avscRecords(bytes));
      const { header: fileHeader, records } = await readAll(bytes);
      expect(plain(records)).toEqual(theirs);
      expect((theirs as unknown[]).length).toBeGreaterThan(0);
      const resolved = await readAll(bytes, { reader: readerSchemaFor(schemaFullName(fileHeader.schema)) });
      expect(plain(resolved.records)).toEqual(theirs);
      expect((await readAll(bytes, { chunk: 7 })).records).toEqual(records);
    });
  }

  it("re-encoded with deflate by Pulse's writer, reads back identically in avsc and in Pulse", async () => {
    for (const name of sampleNames) {
      const { header: fileHeader, records } = await readAll(sample(name));
      const deflated = await writeContainer(fileHeader.schema, records, { codec: "deflate", blockRecords: 2 });
      expect(plain(await avscRecords(deflated))).toEqual(plain(records));
      const again = await readAll(deflated);
      expect(again.header.codec).toBe("deflate");
      expect(again.records).toEqual(records);
    }
  });

  it("reads deflate files written by avsc", async () => {
    const bytes = sample("HeartRateRecord_1760000000000.avro");
    const { header: fileHeader, records } = await readAll(bytes);
    const type = avro.Type.forSchema(JSON.parse(fileHeader.schemaJson));
    const encoder = new avro.streams.BlockEncoder(type, { codec: "deflate", blockSize: 200 });
    const chunks: Buffer[] = [];
    encoder.on("data", (chunk: Buffer) => chunks.push(chunk));
    const finished = new Promise((done) => encoder.on("end", done));
    for (let i = 0; i < 50; i++) for (const record of records) encoder.write(toAvsc(record));
    encoder.end();
    await finished;
    const decoded = await readAll(new Uint8Array(Buffer.concat(chunks)), { reader: fileHeader.schema });
    expect(decoded.header.codec).toBe("deflate");
    expect(decoded.records).toHaveLength(records.length * 50);
    expect(decoded.records.slice(-records.length)).toEqual(records);
  });
});

describe("streaming", () => {
  it("reads block by block: the header and first block of a large file pull a fraction of it, and cancel releases the source", async () => {
    const schema = parseSchema(longSchema);
    const bytes = await writeContainer(
      schema,
      Array.from({ length: 50_000 }, (_, v) => ({ v })),
      { blockRecords: 1000 },
    );
    const { stream, state } = streamOf(bytes, 4096);
    const container = await openContainer(stream);
    const blocks = container.blocks(createDecoder(container.header.schema));
    const first = await blocks.next();
    expect(first.done).toBe(false);
    expect(first.value?.records).toHaveLength(1000);
    expect(first.value?.index).toBe(0);
    expect(state.pulled).toBeLessThan(bytes.length / 10);
    await container.cancel();
    expect(state.cancelled).toBe(true);
  });

  it("numbers blocks and reports where each starts", async () => {
    const bytes = await writeContainer(parseSchema(longSchema), [{ v: 1 }, { v: 2 }, { v: 3 }], { blockRecords: 2 });
    const container = await openContainer(streamOf(bytes, 5).stream);
    const seen = [];
    for await (const b of container.blocks(createDecoder(container.header.schema))) seen.push([b.index, b.byteOffset, b.records]);
    const second = seen[1]?.[1] as number;
    expect(seen).toEqual([
      [0, expect.any(Number), [{ v: 1 }, { v: 2 }]],
      [1, second, [{ v: 3 }]],
    ]);
    expect(bytes[second]).toBe(2); // count 1, zig-zag encoded
  });

  it("refuses a decoder built for another writer schema", async () => {
    const container = await openContainer(streamOf(sample(sampleNames[0] ?? "")).stream);
    expect(() => container.blocks(createDecoder(parseSchema(longSchema)))).toThrow(AvroError);
    await container.cancel();
  });
});

describe("hostile and broken files are refused with a stable code", () => {
  const heartRate = sample("HeartRateRecord_1760000000000.avro");

  it("empty file: EMPTY_FILE", async () => {
    expect(await codeOf(() => readAll(new Uint8Array(0)))).toBe("EMPTY_FILE");
  });

  it("header-only file: a valid file with no records", async () => {
    const { header: fileHeader, records } = await readAll(header({ "avro.schema": longSchema }).toBytes());
    expect(records).toEqual([]);
    expect(fileHeader.codec).toBe("null");
  });

  it("wrong magic: BAD_MAGIC", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(await codeOf(() => readAll(png))).toBe("BAD_MAGIC");
    const version2 = heartRate.slice();
    version2[3] = 2;
    expect(await codeOf(() => readAll(version2))).toBe("BAD_MAGIC");
    expect(await codeOf(() => readAll(new Uint8Array([0x4f, 0x62])))).toBe("TRUNCATED");
  });

  it("truncated anywhere: TRUNCATED, or a shorter valid file when cut exactly between blocks", async () => {
    const bytes = await writeContainer(
      parseSchema(stringSchema),
      ["a", "bb", "ccc"].map((v) => ({ v })),
      { blockRecords: 1 },
    );
    const full = (await readAll(bytes)).records;
    const outcomes = new Set<string>();
    for (let cut = 1; cut < bytes.length; cut++) {
      const code = await codeOf(async () => {
        const { records } = await readAll(bytes.subarray(0, cut), { chunk: 3 });
        expect(full.slice(0, records.length)).toEqual(records);
      });
      outcomes.add(code ?? "valid prefix");
    }
    expect([...outcomes].sort()).toEqual(["TRUNCATED", "valid prefix"]);
  });

  it("corrupt sync marker: BAD_SYNC", async () => {
    const corrupt = heartRate.slice();
    corrupt[corrupt.length - 1] = (corrupt.at(-1) ?? 0) ^ 0xff;
    expect(await codeOf(() => readAll(corrupt))).toBe("BAD_SYNC");
  });

  it("unknown codec: UNKNOWN_CODEC", async () => {
    expect(await codeOf(() => readAll(header({ "avro.schema": longSchema, "avro.codec": "snappy" }).toBytes()))).toBe(
      "UNKNOWN_CODEC",
    );
  });

  it("a block declaring 2^31 objects: LIMIT_EXCEEDED before its data is read", async () => {
    const file = block(header({ "avro.schema": longSchema }), 2 ** 31, new Uint8Array(1 << 20)).toBytes();
    const { stream, state } = streamOf(file, 1024);
    const container = await openContainer(stream);
    const code = await codeOf(async () => {
      for await (const _ of container.blocks(createDecoder(container.header.schema))) {
      }
    });
    expect(code).toBe("LIMIT_EXCEEDED");
    expect(state.pulled).toBeLessThan(8 * 1024);
    expect(state.cancelled).toBe(true);
  });

  it("a block declaring more objects than its bytes can hold: CORRUPT_DATA before decoding", async () => {
    const file = block(header({ "avro.schema": longSchema }), 100_000, new Uint8Array(10)).toBytes();
    expect(await codeOf(() => readAll(file))).toBe("CORRUPT_DATA");
  });

  it("a block declaring more than 8 MiB: LIMIT_EXCEEDED", async () => {
    const sink = header({ "avro.schema": longSchema });
    sink.writeLong(1);
    sink.writeLong(9 * 1024 * 1024);
    expect(await codeOf(() => readAll(sink.toBytes()))).toBe("LIMIT_EXCEEDED");
  });

  it("the zero bomb used below really inflates to zeros", () => {
    const inflated = zlib.inflateRawSync(zeroBomb(4));
    expect(inflated.length).toBe(4 << 20);
    expect(inflated.every((byte) => byte === 0)).toBe(true);
  });

  it("a deflate bomb (1 GiB of zeros in about 1 MB): LIMIT_EXCEEDED", async () => {
    const bomb = zeroBomb(1024);
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const file = block(header({ "avro.schema": longSchema, "avro.codec": "deflate" }), 1000, bomb).toBytes();
    await expect(readAll(file)).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
      message: `block inflates past ${DEFAULT_AVRO_LIMITS.maxInflatedBlockBytes} bytes`,
    });
  });

  it("more inflated bytes per file than allowed, over several blocks: LIMIT_EXCEEDED", async () => {
    const records = Array.from({ length: 4000 }, (_, v) => ({ v: v * 1000 }));
    const bytes = await writeContainer(parseSchema(longSchema), records, { codec: "deflate", blockRecords: 500 });
    expect((await readAll(bytes)).records).toHaveLength(4000);
    await expect(readAll(bytes, { limits: { maxTotalBytes: 4000 } })).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
      message: expect.stringMatching(/^block inflates past \d+ bytes$/),
    });
  });

  it("invalid deflate data: CORRUPT_DATA", async () => {
    const file = block(
      header({ "avro.schema": longSchema, "avro.codec": "deflate" }),
      1,
      new Uint8Array([0xff, 0xff, 0xff, 0x00]),
    ).toBytes();
    expect(await codeOf(() => readAll(file))).toBe("CORRUPT_DATA");
  });

  it("an oversized string length: LIMIT_EXCEEDED", async () => {
    const data = new ByteSink();
    data.writeLong(2 * 1024 * 1024);
    data.writeRaw(new Uint8Array(16));
    const file = block(header({ "avro.schema": stringSchema }), 1, data.toBytes()).toBytes();
    expect(await codeOf(() => readAll(file))).toBe("LIMIT_EXCEEDED");
  });

  it("bytes left over after a block's objects, or missing: CORRUPT_DATA", async () => {
    expect(await codeOf(() => readAll(block(header({ "avro.schema": longSchema }), 1, new Uint8Array([2, 2])).toBytes()))).toBe(
      "CORRUPT_DATA",
    );
    expect(
      await codeOf(() => readAll(block(header({ "avro.schema": stringSchema }), 1, new Uint8Array([20, 65])).toBytes())),
    ).toBe("CORRUPT_DATA");
  });

  it("header problems: BAD_HEADER, UNSUPPORTED_SCHEMA, or LIMIT_EXCEEDED past 64 KiB", async () => {
    expect(await codeOf(() => readAll(header({ "avro.codec": "null" }).toBytes()))).toBe("BAD_HEADER");
    expect(await codeOf(() => readAll(header({ "avro.schema": "{not json" }).toBytes()))).toBe("BAD_HEADER");
    expect(await codeOf(() => readAll(header({ "avro.schema": new Uint8Array([0xff, 0xfe]) }).toBytes()))).toBe("BAD_HEADER");
    expect(await codeOf(() => readAll(header({ "avro.schema": '{"type":"decimal128"}' }).toBytes()))).toBe("UNSUPPORTED_SCHEMA");
    const big = header({ "avro.schema": longSchema, padding: new Uint8Array(70 * 1024) }).toBytes();
    expect(await codeOf(() => readAll(big))).toBe("LIMIT_EXCEEDED");
    const manyEntries = new ByteSink();
    manyEntries.writeRaw(new TextEncoder().encode("Obj\u0001"));
    manyEntries.writeLong(2 ** 40);
    expect(await codeOf(() => readAll(manyEntries.toBytes()))).toBe("LIMIT_EXCEEDED");
    const deep = header({ "avro.schema": `${'{"type":"array","items":'.repeat(100)}"int"${"}".repeat(100)}` }).toBytes();
    expect(await codeOf(() => readAll(deep))).toBe("LIMIT_EXCEEDED");
  });
});
