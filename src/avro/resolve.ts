/**
 * Schema resolution (Avro 1.11 "Schema Resolution") by composing closures: for a writer/reader
 * pair, `resolve` returns a function that reads the writer's encoding and returns a value shaped
 * by the reader schema. Everything that depends only on the two schemas — field matching, skips,
 * defaults, enum symbol maps, union branch choices — is decided here, once, not per datum.
 */
import { type Read, readArray, readMap } from "./collections";
import type { AvroCursor } from "./cursor";
import { type DefaultFactory, defaultFactory } from "./defaults";
import { AvroError } from "./errors";
import { type RecordStep, readRecord } from "./record";
import { shortName } from "./schema";
import type { AvroEnumSchema, AvroNamedSchema, AvroRecordSchema, AvroSchema } from "./schema-types";
import { minEncodedSize, skipperFor } from "./skip";

/** Pairs of named types under construction or built, so recursive schemas resolve to a finite graph. */
export type ResolveMemo = Map<AvroNamedSchema, Map<AvroSchema, { read: Read | undefined }>>;

function mismatch(message: string): never {
  throw new AvroError("SCHEMA_MISMATCH", message);
}

const readNull: Read = () => null;
const readBoolean: Read = (c) => c.readBoolean();
const readInt: Read = (c) => c.readInt();
const readLong: Read = (c) => c.readLong();
const readFloat: Read = (c) => c.readFloat();
const readDouble: Read = (c) => c.readDouble();
const readString: Read = (c) => c.readString();
const readBytes: Read = (c) => c.readBytes();
const readIntAsFloat: Read = (c) => Math.fround(c.readInt());
const readLongAsFloat: Read = (c) => Math.fround(c.readLong());

/** Readers for a primitive writer type, keyed by the reader type it may be read as (promotions included). */
const PRIMITIVE_READS: Record<string, Record<string, Read>> = {
  null: { null: readNull },
  boolean: { boolean: readBoolean },
  int: { int: readInt, long: readInt, float: readIntAsFloat, double: readInt },
  long: { long: readLong, float: readLongAsFloat, double: readLong },
  float: { float: readFloat, double: readFloat },
  double: { double: readDouble },
  string: { string: readString, bytes: readBytes },
  bytes: { bytes: readBytes, string: readString },
};

/** Named types match by full name, by unqualified name, or through the reader's aliases. */
function namesMatch(writer: AvroNamedSchema, reader: AvroNamedSchema): boolean {
  if (writer.name === reader.name || shortName(writer.name) === shortName(reader.name)) return true;
  return reader.aliases.some((alias) => alias === writer.name || shortName(alias) === shortName(writer.name));
}

/** Same kind of schema (and name): the branch a union resolution prefers before trying promotions. */
function sameKind(writer: AvroSchema, reader: AvroSchema): boolean {
  if (writer.type !== reader.type && !(isRecord(writer) && isRecord(reader))) return false;
  return "name" in writer && "name" in reader ? namesMatch(writer, reader) : true;
}

function isRecord(schema: AvroSchema): schema is AvroRecordSchema {
  return schema.type === "record" || schema.type === "error";
}

export function resolve(writer: AvroSchema, reader: AvroSchema, memo: ResolveMemo): Read {
  if (writer.type === "union") return resolveWriterUnion(writer.branches, reader, memo);
  if (reader.type === "union") return resolveReaderUnion(writer, reader.branches, memo);
  if ("name" in writer) return resolveNamed(writer, reader, memo);
  switch (writer.type) {
    case "array":
      if (reader.type !== "array") return mismatch(`cannot read an array as ${reader.type}`);
      return arrayReader(resolve(writer.items, reader.items, memo), minEncodedSize(writer.items));
    case "map":
      if (reader.type !== "map") return mismatch(`cannot read a map as ${reader.type}`);
      return mapReader(resolve(writer.values, reader.values, memo), minEncodedSize(writer.values));
    default: {
      const read = PRIMITIVE_READS[writer.type]?.[reader.type];
      return read ?? mismatch(`cannot read ${writer.type} as ${"name" in reader ? reader.name : reader.type}`);
    }
  }
}

function arrayReader(item: Read, minItemBytes: number): Read {
  return (c) => readArray(c, item, minItemBytes);
}

function mapReader(value: Read, minValueBytes: number): Read {
  return (c) => readMap(c, value, minValueBytes);
}

function resolveReaderUnion(writer: AvroSchema, branches: readonly AvroSchema[], memo: ResolveMemo): Read {
  const exact = branches.find((branch) => sameKind(writer, branch));
  if (exact) return resolve(writer, exact, memo);
  for (const branch of branches) {
    const read = tryResolve(writer, branch, memo);
    if (read) return read;
  }
  return mismatch(`no branch of the reader's union accepts ${"name" in writer ? writer.name : writer.type}`);
}

function tryResolve(writer: AvroSchema, reader: AvroSchema, memo: ResolveMemo): Read | undefined {
  try {
    return resolve(writer, reader, memo);
  } catch (error) {
    if (error instanceof AvroError && error.code === "SCHEMA_MISMATCH") return undefined;
    throw error;
  }
}

/**
 * Each writer branch resolves on its own; a branch the reader cannot take only fails when a datum
 * actually uses it (as in the Java implementation), so `["null","string"]` can feed `"string"`.
 */
function resolveWriterUnion(branches: readonly AvroSchema[], reader: AvroSchema, memo: ResolveMemo): Read {
  const reads = branches.map((branch) => tryResolve(branch, reader, memo));
  if (!reads.some((read) => read !== undefined)) return mismatch("no branch of the writer's union matches the reader");
  const table: Read[] = reads.map(
    (read, index) =>
      read ??
      (() => {
        throw new AvroError("SCHEMA_MISMATCH", `writer union branch ${index} cannot be read with the reader schema`);
      }),
  );
  return (c) => {
    const index = c.readLong();
    const read = table[index];
    if (read === undefined) throw new AvroError("CORRUPT_DATA", `union index ${index} out of range at ${c.pos}`);
    return read(c);
  };
}

function resolveNamed(writer: AvroNamedSchema, reader: AvroSchema, memo: ResolveMemo): Read {
  if (!("name" in reader) || !sameKind(writer, reader)) {
    return mismatch(`cannot read ${writer.name} as ${"name" in reader ? reader.name : reader.type}`);
  }
  let pairs = memo.get(writer);
  if (!pairs) {
    pairs = new Map();
    memo.set(writer, pairs);
  }
  const existing = pairs.get(reader);
  if (existing) {
    if (existing.read) return existing.read;
    // A recursive reference to a pair still being built: bind late, and bound the recursion.
    return (c: AvroCursor) => {
      const read = existing.read;
      // Unset only when building this pair failed after the reference was taken.
      if (!read) throw new AvroError("SCHEMA_MISMATCH", `cannot read ${writer.name} with the reader schema`);
      if (++c.depth > c.limits.maxDepth) throw new AvroError("LIMIT_EXCEEDED", `nesting deeper than ${c.limits.maxDepth}`);
      const value = read(c);
      c.depth--;
      return value;
    };
  }
  const slot: { read: Read | undefined } = { read: undefined };
  pairs.set(reader, slot);
  try {
    slot.read = buildNamed(writer, reader as AvroNamedSchema, memo);
    return slot.read;
  } catch (error) {
    pairs.delete(reader);
    throw error;
  }
}

function buildNamed(writer: AvroNamedSchema, reader: AvroNamedSchema, memo: ResolveMemo): Read {
  if (writer.type === "fixed" && reader.type === "fixed") {
    if (writer.size !== reader.size) return mismatch(`fixed ${reader.name} has size ${reader.size}, not ${writer.size}`);
    const size = writer.size;
    return (c) => c.readFixed(size);
  }
  if (writer.type === "enum" && reader.type === "enum") return enumReader(writer, reader);
  if (isRecord(writer) && isRecord(reader)) return recordReader(writer, reader, memo);
  return mismatch(`cannot read ${writer.name} as ${reader.name}`);
}

function enumReader(writer: AvroEnumSchema, reader: AvroEnumSchema): Read {
  const symbols = writer.symbols.map((symbol) => (reader.symbols.includes(symbol) ? symbol : reader.default));
  return (c) => {
    const index = c.readLong();
    const symbol = symbols[index];
    if (symbol !== undefined) return symbol;
    if (index >= 0 && index < symbols.length) {
      throw new AvroError("SCHEMA_MISMATCH", `enum ${reader.name} has no symbol ${writer.symbols[index]} and no default`);
    }
    throw new AvroError("CORRUPT_DATA", `enum index ${index} out of range at ${c.pos}`);
  };
}

function recordReader(writer: AvroRecordSchema, reader: AvroRecordSchema, memo: ResolveMemo): Read {
  const matched = new Set<string>();
  const steps: RecordStep[] = writer.fields.map((field) => {
    const target =
      reader.fields.find((candidate) => candidate.name === field.name) ??
      reader.fields.find((candidate) => candidate.aliases.includes(field.name));
    if (!target || matched.has(target.name)) return { name: undefined, read: skipperFor(field.type) };
    matched.add(target.name);
    return { name: target.name, read: resolve(field.type, target.type, memo) };
  });
  const defaults: Array<{ name: string; make: DefaultFactory }> = [];
  for (const field of reader.fields) {
    if (matched.has(field.name)) continue;
    if (!field.hasDefault)
      return mismatch(`reader field ${reader.name}.${field.name} is missing from the writer and has no default`);
    defaults.push({ name: field.name, make: defaultFactory(field.type, field.default, `${reader.name}.${field.name}`) });
  }
  return readRecord(steps, defaults);
}
