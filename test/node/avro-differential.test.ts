// Differential tests of the eval-free reader (src/avro) against avsc 5.7.9 on seeded random
// schemas and values (DESIGN §6 design (b)): the same bytes must decode to the same values, with
// the writer schema alone and resolved against evolved reader schemas; Pulse's writer must
// produce avsc's bytes.
import avro from "avsc";
import { describe, expect, it } from "vitest";
import {
  AvroError,
  type AvroSchema,
  canonicalForm,
  createDecoder,
  decodeDatum,
  encodeDatum,
  parseSchema,
} from "../../src/avro/index";
import { evolve, plain, type Rng, randomValue, SchemaGenerator, seeded, toAvsc } from "./avro-random";

const SEED = 0x5eed_a0f0;
const CASES = 300;
const VALUES_PER_CASE = 6;

const avscType = (json: unknown) => avro.Type.forSchema(json as avro.Schema, { wrapUnions: false });

/** Codes of the AvroError thrown by `run`, or "none". */
function errorCode(run: () => unknown): string {
  try {
    run();
    return "none";
  } catch (error) {
    return error instanceof AvroError ? error.code : `not an AvroError: ${String(error)}`;
  }
}

function randomCase(rng: Rng) {
  const generator = new SchemaGenerator(rng);
  const json = generator.record();
  return { json, kinds: generator.kinds, schema: parseSchema(json) };
}

describe("random schemas and values, writer schema = reader schema", () => {
  it(`decodes what avsc encodes, encodes what avsc encodes, and agrees on canonical forms (${CASES} schemas)`, () => {
    const rng = seeded(SEED);
    let values = 0;
    for (let n = 0; n < CASES; n++) {
      const { json, schema } = randomCase(rng);
      const type = avscType(json);
      const decoder = createDecoder(schema);
      // avsc's schema() is the Parsing Canonical Form (it hashes it for fingerprints).
      expect(canonicalForm(schema), `case ${n}`).toBe(JSON.stringify(type.schema()));
      for (let v = 0; v < VALUES_PER_CASE; v++) {
        const value = randomValue(rng, schema);
        const bytes = type.toBuffer(toAvsc(value));
        const context = `case ${n}, value ${v}: ${JSON.stringify(json)}`;
        expect(plain(decodeDatum(decoder, bytes)), context).toEqual(plain(type.fromBuffer(bytes)));
        expect(Buffer.from(encodeDatum(schema, value)).equals(bytes), context).toBe(true);
        values++;
      }
    }
    expect(values).toBe(CASES * VALUES_PER_CASE);
  });

  it("refuses every truncation of a datum with TRUNCATED or CORRUPT_DATA, never a wrong value", () => {
    const rng = seeded(SEED + 1);
    for (let n = 0; n < 60; n++) {
      const { schema } = randomCase(rng);
      const decoder = createDecoder(schema);
      const bytes = encodeDatum(schema, randomValue(rng, schema));
      for (let cut = 0; cut < bytes.length; cut++) {
        const code = errorCode(() => decodeDatum(decoder, bytes.subarray(0, cut)));
        expect(["TRUNCATED", "CORRUPT_DATA"], `case ${n}, cut at ${cut} of ${bytes.length}`).toContain(code);
      }
    }
  });
});

describe("random schema evolution (Avro 1.11 schema resolution)", () => {
  it(`resolves like avsc's createResolver (${CASES} writer/reader pairs)`, () => {
    const rng = seeded(SEED + 2);
    let resolved = 0;
    for (let n = 0; n < CASES; n++) {
      const { json, kinds, schema } = randomCase(rng);
      const writerType = avscType(json);
      let pair: { readerJson: unknown; reader: AvroSchema; readerType: avro.Type } | undefined;
      for (let attempt = 0; attempt < 5 && !pair; attempt++) {
        const readerJson = evolve(rng, json, kinds, (inner) => parseSchema(inner));
        try {
          pair = { readerJson, reader: parseSchema(readerJson), readerType: avscType(readerJson) };
        } catch {}
      }
      if (!pair) continue;
      const readerType = pair.readerType;
      const decoder = createDecoder(schema, pair.reader);
      const resolver = readerType.createResolver(writerType);
      for (let v = 0; v < VALUES_PER_CASE; v++) {
        const bytes = writerType.toBuffer(toAvsc(randomValue(rng, schema, { small: true })));
        const context = `case ${n}, value ${v}: ${JSON.stringify(json)} read as ${JSON.stringify(pair.readerJson)}`;
        expect(plain(decodeDatum(decoder, bytes)), context).toEqual(plain(readerType.fromBuffer(bytes, resolver)));
      }
      resolved++;
    }
    expect(resolved).toBeGreaterThan(CASES * 0.9);
  });
});
