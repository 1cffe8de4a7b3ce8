// The Avro reader inside workerd, the runtime it ships in (DESIGN §6 design (b)): the Health
// Connect samples against their published reader schemas, all 31 record types through a deflate
// container, decoding with eval and the Function constructors trapped, and hostile files.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  type AvroSchema,
  createDecoder,
  DEFAULT_AVRO_LIMITS,
  isAvroError,
  openContainer,
  parseSchema,
  schemaFullName,
  writeContainer,
} from "../../src/avro/index";
import { ByteSink } from "../../src/avro/write-sink";
import { READER_SCHEMAS, type ReaderSchemaName } from "../../src/health-connect/schemas/reader-schemas";

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += 1000) controller.enqueue(bytes.slice(offset, offset + 1000));
      controller.close();
    },
  });
}

function readerFor(writer: AvroSchema): AvroSchema {
  const name = schemaFullName(writer).split(".").pop() as ReaderSchemaName;
  return parseSchema(READER_SCHEMAS[name]);
}

async function decodeFile(bytes: Uint8Array, reader?: AvroSchema) {
  const container = await openContainer(streamOf(bytes));
  const records: Array<Record<string, unknown>> = [];
  const decoder = createDecoder(container.header.schema, reader ?? readerFor(container.header.schema));
  for await (const block of container.blocks(decoder)) records.push(...(block.records as Array<Record<string, unknown>>));
  return { header: container.header, records };
}

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (error) {
    return isAvroError(error) ? error.code : String(error);
  }
  return undefined;
}

/** A value for every field: the first non-null union branch, one array item, the first enum symbol. */
function exampleOf(schema: AvroSchema, seed: number): unknown {
  switch (schema.type) {
    case "null":
      return null;
    case "boolean":
      return seed % 2 === 0;
    case "int":
      return seed * 1000;
    case "long":
      return 1_759_968_000_000 + seed;
    case "float":
    case "double":
      return seed + 0.25;
    case "string":
      return `value ${seed} é`;
    case "bytes":
      return new Uint8Array([seed & 0xff]);
    case "fixed":
      return new Uint8Array(schema.size).fill(seed & 0xff);
    case "enum":
      return schema.symbols[seed % schema.symbols.length];
    case "array":
      return [exampleOf(schema.items, seed + 1)];
    case "map":
      return { key: exampleOf(schema.values, seed + 1) };
    case "union":
      return exampleOf(schema.branches.find((branch) => branch.type !== "null") ?? { type: "null" }, seed);
    default:
      return Object.fromEntries(schema.fields.map((field, i) => [field.name, exampleOf(field.type, seed + i)]));
  }
}

const EXPECTED_COUNTS: Record<string, number> = {
  "ActiveCaloriesBurnedRecord_1760000000000.avro": 1,
  "BloodGlucoseRecord_1760000000000.avro": 12,
  "HeartRateRecord_1760000000000.avro": 3,
  "HeartRateVariabilityRmssdRecord_1760000000000.avro": 6,
  "SleepSessionRecord_1760000000000.avro": 1,
  "StepsRecord_1760000000000.avro": 1,
};

describe("Avro in workerd", () => {
  it("decodes with every way to compile source text (eval, the Function constructors) trapped", async () => {
    // The vitest workers harness allows code generation (its module runner needs it), unlike
    // deployed workerd; so the reader is run with each entry point replaced by a trap.
    const attempts: string[] = [];
    const trap = (name: string) =>
      function trapped() {
        attempts.push(name);
        throw new EvalError(`${name} is not allowed`);
      };
    const prototypes = [() => {}, async () => {}, function* () {}, async function* () {}].map((fn) => Object.getPrototypeOf(fn));
    const originals = prototypes.map((proto) => Object.getOwnPropertyDescriptor(proto, "constructor"));
    const { eval: originalEval, Function: originalFunction } = globalThis;
    try {
      globalThis.eval = trap("eval");
      globalThis.Function = trap("Function") as unknown as FunctionConstructor;
      for (const proto of prototypes)
        Object.defineProperty(proto, "constructor", { value: trap("constructor"), configurable: true });
      expect(() => (() => {}).constructor("return 1")).toThrow(EvalError);
      attempts.length = 0;
      const schema = parseSchema(READER_SCHEMAS.AvroSleepSessionRecord);
      const record = exampleOf(schema, 4);
      const file = await writeContainer(schema, [record, record], { codec: "deflate" });
      expect((await decodeFile(file)).records).toEqual([record, record]);
      const samples = Object.values(env.TEST_HEALTH_CONNECT_SAMPLES);
      for (const base64 of samples) expect((await decodeFile(fromBase64(base64))).records.length).toBeGreaterThan(0);
    } finally {
      globalThis.eval = originalEval;
      globalThis.Function = originalFunction;
      prototypes.forEach((proto, i) => {
        const original = originals[i];
        if (original) Object.defineProperty(proto, "constructor", original);
      });
    }
    expect(attempts).toEqual([]);
  });

  it("decodes every Health Connect sample against its published reader schema", async () => {
    const samples = env.TEST_HEALTH_CONNECT_SAMPLES;
    expect(Object.keys(samples).sort()).toEqual(Object.keys(EXPECTED_COUNTS).sort());
    for (const [name, base64] of Object.entries(samples)) {
      const { header, records } = await decodeFile(fromBase64(base64));
      expect(header.codec, name).toBe("null");
      expect(records, name).toHaveLength(EXPECTED_COUNTS[name] ?? -1);
      for (const record of records) expect(record.metadata, name).toMatchObject({ id: expect.stringMatching(/^0{8}-/) });
    }
    const heartRate = await decodeFile(fromBase64(samples["HeartRateRecord_1760000000000.avro"] ?? ""));
    expect(heartRate.records[0]).toMatchObject({
      metadata: { id: "00000000-0000-4000-8000-000000000100", dataOriginPackageName: "com.example.watch", clientRecordId: null },
      startTimeEpochMillis: 1759968000000,
      startZoneOffsetId: "-05:00",
    });
    const samplesOfFirst = heartRate.records[0]?.samples as unknown[] | undefined;
    expect(samplesOfFirst?.slice(0, 2)).toEqual([
      { timeEpochMillis: 1759968000000, beatsPerMinute: 60 },
      { timeEpochMillis: 1759968030000, beatsPerMinute: 61 },
    ]);
  });

  it("round-trips an example record of all 31 record types through a deflate container", async () => {
    const names = Object.keys(READER_SCHEMAS) as ReaderSchemaName[];
    expect(names).toHaveLength(31);
    for (const name of names) {
      const schema = parseSchema(READER_SCHEMAS[name]);
      const records = [exampleOf(schema, 1), exampleOf(schema, 2)];
      const file = await writeContainer(schema, records, { codec: "deflate", blockRecords: 1 });
      const decoded = await decodeFile(file);
      expect(decoded.header.codec, name).toBe("deflate");
      expect(decoded.records, name).toEqual(records);
    }
  });

  it("reads a file whose writer schema differs from the published one", async () => {
    const published = READER_SCHEMAS.AvroStepsRecord;
    // An older exporter: no zone offsets, a count written as int, and an extra field.
    const fields = published.fields
      .filter((field) => !field.name.endsWith("ZoneOffsetId"))
      .map((field) => (field.name === "count" ? { name: "count", type: "int" } : field));
    const writer = parseSchema({ ...published, fields: [...fields, { name: "exporterBuild", type: "string" }] });
    const record = exampleOf(writer, 3) as Record<string, unknown>;
    const { records } = await decodeFile(await writeContainer(writer, [record], { codec: "deflate" }));
    const { exporterBuild: _dropped, ...kept } = record;
    expect(records).toEqual([{ ...kept, startZoneOffsetId: null, endZoneOffsetId: null }]);
  });
});

describe("hostile files in workerd", () => {
  const heartRate = () => fromBase64(env.TEST_HEALTH_CONNECT_SAMPLES["HeartRateRecord_1760000000000.avro"] ?? "");
  const longSchema = { type: "record", name: "L", fields: [{ name: "v", type: "long" }] };
  const stringSchema = { type: "record", name: "S", fields: [{ name: "v", type: "string" }] };
  const sync = new Uint8Array(16).fill(9);

  /** A container with a hand-written header and blocks of (declared count, raw data). */
  function container(schema: unknown, codec: string, blocks: Array<[number, Uint8Array]>): Uint8Array {
    const sink = new ByteSink();
    sink.writeRaw(new TextEncoder().encode("Obj\u0001"));
    sink.writeLong(2);
    sink.writeString("avro.schema");
    sink.writeString(JSON.stringify(schema));
    sink.writeString("avro.codec");
    sink.writeString(codec);
    sink.writeLong(0);
    sink.writeRaw(sync);
    for (const [count, data] of blocks) {
      sink.writeLong(count);
      sink.writeLong(data.length);
      sink.writeRaw(data);
      sink.writeRaw(sync);
    }
    return sink.toBytes();
  }

  it("refuses empty, foreign, truncated and corrupt files with their codes", async () => {
    expect(await codeOf(() => decodeFile(new Uint8Array(0)))).toBe("EMPTY_FILE");
    expect(await codeOf(() => decodeFile(new TextEncoder().encode("PK\u0003\u0004 not avro")))).toBe("BAD_MAGIC");
    const bytes = heartRate();
    expect(await codeOf(() => decodeFile(bytes.slice(0, bytes.length - 20)))).toBe("TRUNCATED");
    const badSync = bytes.slice();
    badSync[bytes.length - 3] = (badSync[bytes.length - 3] ?? 0) ^ 1;
    expect(await codeOf(() => decodeFile(badSync))).toBe("BAD_SYNC");
    expect(await codeOf(() => decodeFile(container(longSchema, "snappy", [])))).toBe("UNKNOWN_CODEC");
  });

  it("refuses a block declaring 2^31 objects and an oversized string", async () => {
    const reader = parseSchema(longSchema);
    expect(await codeOf(() => decodeFile(container(longSchema, "null", [[2 ** 31, new Uint8Array(64)]]), reader))).toBe(
      "LIMIT_EXCEEDED",
    );
    const text = new ByteSink();
    text.writeLong(2 * 1024 * 1024);
    text.writeRaw(new Uint8Array(32));
    const file = container(stringSchema, "null", [[1, text.toBytes()]]);
    expect(await codeOf(() => decodeFile(file, parseSchema(stringSchema)))).toBe("LIMIT_EXCEEDED");
  });

  it("stops inflating a deflate bomb at the block bound", async () => {
    // 64 MiB of zeros (four times the bound) compressed to about 64 KB.
    const zeros = new Uint8Array(1 << 20);
    let sent = 0;
    const compressed = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 64) controller.enqueue(zeros);
        else controller.close();
      },
    }).pipeThrough(new CompressionStream("deflate-raw"));
    const bomb = new Uint8Array(await new Response(compressed).arrayBuffer());
    expect(bomb.length).toBeLessThan(256 * 1024);
    const file = container(longSchema, "deflate", [[1000, bomb]]);
    await expect(decodeFile(file, parseSchema(longSchema))).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
      message: `block inflates past ${DEFAULT_AVRO_LIMITS.maxInflatedBlockBytes} bytes`,
    });
  });
});
