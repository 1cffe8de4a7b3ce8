// Hand-written schema resolution cases (Avro 1.11 "Schema Resolution"), each checked against
// avsc's createResolver where avsc resolves them, and the places where Pulse deliberately differs.
import avro from "avsc";
import { describe, expect, it } from "vitest";
import { AvroError, createDecoder, decodeDatum, parseSchema } from "../../src/avro/index";
import { ByteSink } from "../../src/avro/write-sink";
import { plain, toAvsc } from "./avro-random";

const avscType = (json: unknown) => avro.Type.forSchema(json as avro.Schema, { wrapUnions: false });
const record = (name: string, fields: unknown[], extra: Record<string, unknown> = {}) => ({
  type: "record",
  name,
  fields,
  ...extra,
});

/** Encodes `value` with the writer schema (avsc), then decodes it with both implementations. */
function both(writer: unknown, reader: unknown, value: unknown) {
  const bytes = avscType(writer).toBuffer(toAvsc(value));
  const readerType = avscType(reader);
  const theirs = readerType.fromBuffer(bytes, readerType.createResolver(avscType(writer)));
  const ours = decodeDatum(createDecoder(parseSchema(writer), parseSchema(reader)), bytes);
  return { ours: plain(ours), theirs: plain(theirs) };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof AvroError ? error.code : String(error);
  }
  return undefined;
}

const point = record("Point", [
  { name: "x", type: "int" },
  { name: "y", type: "int" },
]);

describe("resolution cases agree with avsc", () => {
  const cases: Array<[string, unknown, unknown, unknown, unknown]> = [
    [
      "a reader field missing from the writer takes its default, including records, arrays, bytes and null unions",
      point,
      record("Point", [
        { name: "x", type: "int" },
        { name: "y", type: "int" },
        { name: "label", type: ["null", "string"], default: null },
        { name: "tags", type: { type: "array", items: "string" }, default: ["a", "b"] },
        { name: "raw", type: "bytes", default: "\u00ff\u0000A" },
        { name: "origin", type: record("Origin", [{ name: "z", type: "long", default: 7 }]), default: {} },
        { name: "weight", type: "double", default: 1.5 },
      ]),
      { x: 1, y: 2 },
      { x: 1, y: 2, label: null, tags: ["a", "b"], raw: { bytes: "ff0041" }, origin: { z: 7 }, weight: 1.5 },
    ],
    [
      "writer fields missing from the reader are skipped, whatever their type",
      record("Point", [
        { name: "skipArray", type: { type: "array", items: record("Inner", [{ name: "s", type: "string" }]) } },
        { name: "x", type: "int" },
        { name: "skipMap", type: { type: "map", values: ["null", "double"] } },
        { name: "skipFixed", type: { type: "fixed", name: "Hash", size: 4 } },
        { name: "y", type: "int" },
        { name: "skipEnum", type: { type: "enum", name: "Color", symbols: ["RED", "GREEN"] } },
        { name: "skipFloat", type: "float" },
        { name: "skipBool", type: "boolean" },
      ]),
      point,
      {
        skipArray: [{ s: "one" }, { s: "two" }],
        x: 3,
        skipMap: { a: 1.5, b: null },
        skipFixed: new Uint8Array([1, 2, 3, 4]),
        y: -4,
        skipEnum: "GREEN",
        skipFloat: 0.5,
        skipBool: true,
      },
      { x: 3, y: -4 },
    ],
    [
      "reordered fields are matched by name",
      point,
      record("Point", [
        { name: "y", type: "int" },
        { name: "x", type: "int" },
      ]),
      { x: 5, y: 6 },
      { x: 5, y: 6 },
    ],
    [
      "fields renamed in the reader are matched through their aliases, records through theirs",
      point,
      record(
        "Vector",
        [
          { name: "left", type: "int", aliases: ["x"] },
          { name: "y", type: "int" },
        ],
        { aliases: ["Point"] },
      ),
      { x: 5, y: 6 },
      { left: 5, y: 6 },
    ],
    [
      "int, long and float are promoted; string and bytes read as each other",
      record("P", [
        { name: "a", type: "int" },
        { name: "b", type: "int" },
        { name: "c", type: "int" },
        { name: "d", type: "long" },
        { name: "e", type: "long" },
        { name: "f", type: "float" },
        { name: "g", type: "string" },
        { name: "h", type: "bytes" },
      ]),
      record("P", [
        { name: "a", type: "long" },
        { name: "b", type: "float" },
        { name: "c", type: "double" },
        { name: "d", type: "float" },
        { name: "e", type: "double" },
        { name: "f", type: "double" },
        { name: "g", type: "bytes" },
        { name: "h", type: "string" },
      ]),
      { a: -7, b: 1024, c: 2 ** 31 - 1, d: 2 ** 20, e: 2 ** 52 + 1, f: 0.25, g: "é", h: new Uint8Array([0x68, 0x69]) },
      { a: -7, b: 1024, c: 2 ** 31 - 1, d: 2 ** 20, e: 2 ** 52 + 1, f: 0.25, g: { bytes: "c3a9" }, h: "hi" },
    ],
    [
      "an enum symbol unknown to the reader becomes the reader's default",
      record("E", [{ name: "c", type: { type: "enum", name: "Color", symbols: ["RED", "GREEN", "BLUE"] } }]),
      record("E", [{ name: "c", type: { type: "enum", name: "Color", symbols: ["BLUE", "RED", "OTHER"], default: "OTHER" } }]),
      { c: "GREEN" },
      { c: "OTHER" },
    ],
    [
      "a plain writer type is read into a reader union",
      record("U", [{ name: "v", type: "long" }]),
      record("U", [{ name: "v", type: ["null", "string", "double"] }]),
      { v: 12 },
      { v: 12 },
    ],
    [
      "a writer union is read into a reader union with other branches and another order",
      record("U", [{ name: "v", type: ["null", point, "string"] }]),
      record("U", [{ name: "v", type: ["string", "boolean", point, "null"] }]),
      { v: { x: 1, y: 1 } },
      { v: { x: 1, y: 1 } },
    ],
    [
      "a recursive record resolves, with a field added at every level",
      record("Node", [
        { name: "value", type: "int" },
        { name: "next", type: ["null", "Node"] },
      ]),
      record("Node", [
        { name: "value", type: "long" },
        { name: "next", type: ["null", "Node"] },
        { name: "seen", type: "boolean", default: false },
      ]),
      { value: 1, next: { value: 2, next: { value: 3, next: null } } },
      { value: 1, seen: false, next: { value: 2, seen: false, next: { value: 3, seen: false, next: null } } },
    ],
    [
      "named types in other namespaces are referenced by full name",
      record("Outer", [
        { name: "a", type: { type: "fixed", name: "Id", namespace: "x.y", size: 2 } },
        { name: "b", type: "x.y.Id" },
      ]),
      record("Outer", [{ name: "b", type: { type: "fixed", name: "Id", namespace: "x.y", size: 2 } }]),
      { a: new Uint8Array([1, 2]), b: new Uint8Array([3, 4]) },
      { b: { bytes: "0304" } },
    ],
  ];

  for (const [title, writer, reader, value, expected] of cases) {
    it(title, () => {
      const { ours, theirs } = both(writer, reader, value);
      expect(ours).toEqual(expected);
      expect(theirs).toEqual(expected);
    });
  }
});

describe("where Pulse is deliberately more lenient or stricter than avsc", () => {
  it("reads a writer union into a plain reader type, failing only on a branch the reader cannot take", () => {
    const writer = record("U", [{ name: "v", type: ["null", "string"] }]);
    const reader = record("U", [{ name: "v", type: "string" }]);
    const decoder = createDecoder(parseSchema(writer), parseSchema(reader));
    expect(decodeDatum(decoder, avscType(writer).toBuffer({ v: "hello" }))).toEqual({ v: "hello" });
    expect(codeOf(() => decodeDatum(decoder, avscType(writer).toBuffer({ v: null })))).toBe("SCHEMA_MISMATCH");
    // avsc refuses the whole pair up front.
    expect(() => avscType(reader).createResolver(avscType(writer))).toThrow();
  });

  it("fails on an enum symbol without a reader default only when a datum uses it", () => {
    const enumOf = (symbols: string[]) => record("E", [{ name: "c", type: { type: "enum", name: "Color", symbols } }]);
    const decoder = createDecoder(parseSchema(enumOf(["RED", "GREEN"])), parseSchema(enumOf(["RED"])));
    expect(decodeDatum(decoder, new Uint8Array([0]))).toEqual({ c: "RED" });
    expect(codeOf(() => decodeDatum(decoder, new Uint8Array([2])))).toBe("SCHEMA_MISMATCH");
    expect(codeOf(() => decodeDatum(decoder, new Uint8Array([4])))).toBe("CORRUPT_DATA");
  });

  it("prefers the reader branch of the same type over a promotion (as the Java implementation does)", () => {
    const writer = { type: "bytes" };
    const reader = ["string", "bytes"];
    const bytes = avscType(writer).toBuffer(Buffer.from([0xc3, 0xa9]));
    expect(decodeDatum(createDecoder(parseSchema(writer), parseSchema(reader)), bytes)).toEqual(new Uint8Array([0xc3, 0xa9]));
  });

  it("rounds ints and longs promoted to float to float precision", () => {
    const decoder = createDecoder(parseSchema("long"), parseSchema("float"));
    expect(decodeDatum(decoder, avscType("long").toBuffer(2 ** 24 + 1))).toBe(2 ** 24);
  });

  it("matches named types by unqualified name when namespaces differ", () => {
    const writer = record("Point", point.fields, { namespace: "com.example.v1" });
    const reader = record("Point", point.fields, { namespace: "com.example.v2" });
    const decoder = createDecoder(parseSchema(writer), parseSchema(reader));
    expect(decodeDatum(decoder, new Uint8Array([2, 4]))).toEqual({ x: 1, y: 2 });
  });
});

describe("pairs that cannot be resolved are refused with SCHEMA_MISMATCH when the decoder is built", () => {
  const cases: Array<[string, unknown, unknown]> = [
    [
      "a reader field without default missing from the writer",
      point,
      record("Point", [...point.fields, { name: "z", type: "int" }]),
    ],
    ["an int read as a string", point, record("Point", [{ name: "x", type: "string" }])],
    [
      "a long read as an int (no demotion)",
      record("P", [{ name: "x", type: "long" }]),
      record("P", [{ name: "x", type: "int" }]),
    ],
    ["records of different names", point, record("Place", point.fields)],
    ["fixed types of different sizes", { type: "fixed", name: "H", size: 4 }, { type: "fixed", name: "H", size: 8 }],
    ["a union none of whose branches fits", ["null", "int"], ["string", "boolean"]],
    ["an array read as a map", { type: "array", items: "int" }, { type: "map", values: "int" }],
    [
      "an invalid default the reader would need",
      point,
      record("Point", [...point.fields, { name: "z", type: "int", default: "seven" }]),
    ],
  ];
  for (const [title, writer, reader] of cases) {
    it(title, () => {
      expect(codeOf(() => createDecoder(parseSchema(writer), parseSchema(reader)))).toBe("SCHEMA_MISMATCH");
    });
  }
});

describe("datum limits", () => {
  const node = record("Node", [
    { name: "value", type: "int" },
    { name: "next", type: ["null", "Node"] },
  ]);
  const list = (length: number) => {
    const sink = new ByteSink();
    for (let i = 0; i < length; i++) {
      sink.writeLong(i);
      sink.writeLong(i === length - 1 ? 0 : 1);
    }
    return sink.toBytes();
  };

  it("bounds recursion depth (maxDepth) instead of exhausting the stack", () => {
    const decoder = createDecoder(parseSchema(node));
    expect(decodeDatum(decoder, list(60))).toMatchObject({ value: 0, next: { value: 1 } });
    expect(codeOf(() => decodeDatum(decoder, list(100_000)))).toBe("LIMIT_EXCEEDED");
    expect(codeOf(() => decodeDatum(decoder, list(20), { maxDepth: 10 }))).toBe("LIMIT_EXCEEDED");
  });

  it("decodes longs up to ±(2^53 - 1) exactly and refuses the ones beyond", () => {
    const long = (value: bigint) => {
      let zigzag = value >= 0n ? value * 2n : -value * 2n - 1n;
      const out: number[] = [];
      while (zigzag >= 0x80n) {
        out.push(Number(zigzag & 0x7fn) | 0x80);
        zigzag >>= 7n;
      }
      out.push(Number(zigzag));
      return new Uint8Array(out);
    };
    const decoder = createDecoder(parseSchema("long"));
    for (const value of [0n, -1n, 2n ** 31n, -(2n ** 40n), 2n ** 53n - 1n, -(2n ** 53n) + 1n]) {
      expect(decodeDatum(decoder, long(value))).toBe(Number(value));
    }
    for (const value of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      expect(codeOf(() => decodeDatum(decoder, long(value)))).toBe("CORRUPT_DATA");
    }
    expect(codeOf(() => decodeDatum(decoder, new Uint8Array(11).fill(0xff)))).toBe("CORRUPT_DATA");
  });

  it("checks string and collection sizes before allocating", () => {
    const sink = new ByteSink();
    sink.writeLong(2 * 1024 * 1024);
    expect(codeOf(() => decodeDatum(createDecoder(parseSchema("string")), sink.toBytes()))).toBe("LIMIT_EXCEEDED");
    const array = new ByteSink();
    array.writeLong(2 ** 40);
    expect(codeOf(() => decodeDatum(createDecoder(parseSchema({ type: "array", items: "null" })), array.toBytes()))).toBe(
      "LIMIT_EXCEEDED",
    );
    const counted = new ByteSink();
    counted.writeLong(1000);
    counted.writeLong(1);
    expect(codeOf(() => decodeDatum(createDecoder(parseSchema({ type: "array", items: "long" })), counted.toBytes()))).toBe(
      "TRUNCATED",
    );
  });

  it("skips array blocks written with byte sizes (negative counts) like avsc", () => {
    const writer = record("W", [
      { name: "skipped", type: { type: "array", items: "long" } },
      { name: "kept", type: { type: "array", items: "long" } },
    ]);
    const sink = new ByteSink();
    for (let field = 0; field < 2; field++) {
      sink.writeLong(-3);
      sink.writeLong(3);
      for (const value of [1, -1, 2]) sink.writeLong(value);
      sink.writeLong(0);
    }
    const bytes = Buffer.from(sink.toBytes());
    const reader = record("W", [{ name: "kept", type: { type: "array", items: "long" } }]);
    const readerType = avscType(reader);
    const theirs = readerType.fromBuffer(bytes, readerType.createResolver(avscType(writer)));
    expect(decodeDatum(createDecoder(parseSchema(writer), parseSchema(reader)), bytes)).toEqual({ kept: [1, -1, 2] });
    expect(plain(theirs)).toEqual({ kept: [1, -1, 2] });
  });
});
