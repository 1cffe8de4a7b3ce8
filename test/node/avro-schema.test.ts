// Schema parsing (Avro 1.11 "Schema Declaration", "Names") and the decoder cache.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { AvroError, canonicalForm, createDecoder, parseSchema, schemaFullName } from "../../src/avro/index";

const schemasDir = resolve(import.meta.dirname, "../../../shared/data/health-connect/schemas");

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof AvroError ? error.code : String(error);
  }
  return undefined;
}

describe("parseSchema", () => {
  it("parses all 31 published Health Connect schemas, with full names", () => {
    const files = readdirSync(schemasDir).filter((name) => name.endsWith(".avsc"));
    expect(files).toHaveLength(31);
    for (const file of files) {
      const schema = parseSchema(readFileSync(resolve(schemasDir, file), "utf8"));
      expect(schemaFullName(schema)).toBe(`io.github.hitoshura25.healthsyncapp.data.avro.${file.replace(".avsc", "")}`);
    }
  });

  it("qualifies names with the enclosing namespace and resolves references to them", () => {
    const schema = parseSchema({
      type: "record",
      name: "Outer",
      namespace: "a.b",
      fields: [
        { name: "inner", type: { type: "enum", name: "Kind", symbols: ["X"] } },
        { name: "again", type: "Kind" },
        { name: "elsewhere", type: { type: "fixed", name: "c.Id", size: 1 } },
        { name: "full", type: "a.b.Kind" },
      ],
    });
    expect(canonicalForm(schema)).toBe(
      '{"name":"a.b.Outer","type":"record","fields":[{"name":"inner","type":{"name":"a.b.Kind","type":"enum","symbols":["X"]}},' +
        '{"name":"again","type":"a.b.Kind"},{"name":"elsewhere","type":{"name":"c.Id","type":"fixed","size":1}},{"name":"full","type":"a.b.Kind"}]}',
    );
  });

  const invalid: Array<[string, unknown]> = [
    ["text that is not JSON", "{nope"],
    ["an unknown type name", { type: "record", name: "R", fields: [{ name: "a", type: "Missing" }] }],
    ["a name that is not an Avro name", { type: "record", name: "1R", fields: [] }],
    ["a field name that is not an Avro name", { type: "record", name: "R", fields: [{ name: "a-b", type: "int" }] }],
    [
      "a repeated field",
      {
        type: "record",
        name: "R",
        fields: [
          { name: "a", type: "int" },
          { name: "a", type: "long" },
        ],
      },
    ],
    ["a named type defined twice", ["null", { type: "fixed", name: "F", size: 1 }, { type: "enum", name: "F", symbols: ["A"] }]],
    ["a union directly inside a union", ["null", ["int", "long"]]],
    ["a union with the same type twice", ["int", "int"]],
    ["an enum default that is not a symbol", { type: "enum", name: "E", symbols: ["A"], default: "B" }],
    ["repeated enum symbols", { type: "enum", name: "E", symbols: ["A", "A"] }],
    ["a negative fixed size", { type: "fixed", name: "F", size: -1 }],
    ["a record without fields", { type: "record", name: "R" }],
    ["an array without items", { type: "array" }],
    ["a number", 42],
  ];
  for (const [title, json] of invalid) {
    it(`refuses ${title} with UNSUPPORTED_SCHEMA`, () => {
      expect(codeOf(() => parseSchema(json))).toBe("UNSUPPORTED_SCHEMA");
    });
  }

  it("bounds nesting depth with LIMIT_EXCEEDED", () => {
    let json: unknown = "int";
    for (let i = 0; i < 200; i++) json = { type: "array", items: json };
    expect(codeOf(() => parseSchema(json))).toBe("LIMIT_EXCEEDED");
    expect(codeOf(() => parseSchema(json, { maxDepth: 500 }))).toBeUndefined();
  });
});

describe("caching", () => {
  const text = readFileSync(resolve(schemasDir, "AvroHeartRateRecord.avsc"), "utf8");

  it("returns one decoder per reader schema and writer canonical form", () => {
    const reader = parseSchema(JSON.parse(text));
    const first = createDecoder(parseSchema(text), reader);
    expect(createDecoder(parseSchema(text), reader)).toBe(first);
    expect(createDecoder(parseSchema(text), parseSchema(JSON.parse(text)))).not.toBe(first);
  });

  it("parses a schema object once", () => {
    const json = JSON.parse(text);
    expect(parseSchema(json)).toBe(parseSchema(json));
    expect(parseSchema(text)).not.toBe(parseSchema(text));
  });
});
