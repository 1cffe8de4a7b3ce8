/**
 * Per-schema encoders, built once per schema object. Union branches are chosen by the first branch
 * the value fits (Avro 1.11 leaves the choice to the writer; this matches avsc for unambiguous values).
 */
import { AvroError } from "./errors";
import type { AvroSchema } from "./schema-types";
import type { ByteSink } from "./write-sink";

export type Write = (sink: ByteSink, value: unknown) => void;

const encoders = new WeakMap<AvroSchema, Write>();

function wrong(schema: AvroSchema, value: unknown): never {
  const name = "name" in schema ? schema.name : schema.type;
  throw new AvroError("SCHEMA_MISMATCH", `a ${Array.isArray(value) ? "array" : typeof value} is not a valid ${name}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Whether `value` can be written as `schema` (shallow for records: their fields are checked when written). */
export function fits(schema: AvroSchema, value: unknown): boolean {
  switch (schema.type) {
    case "null":
      return value === null || value === undefined;
    case "boolean":
      return typeof value === "boolean";
    case "int":
      return typeof value === "number" && Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff;
    case "long":
      return Number.isSafeInteger(value);
    case "float":
    case "double":
      return typeof value === "number";
    case "string":
      return typeof value === "string";
    case "bytes":
      return value instanceof Uint8Array;
    case "fixed":
      return value instanceof Uint8Array && value.length === schema.size;
    case "enum":
      return typeof value === "string" && schema.symbols.includes(value);
    case "array":
      return Array.isArray(value);
    case "map":
      return isObject(value);
    case "record":
    case "error":
      return isObject(value) && schema.fields.every((field) => field.hasDefault || fits(field.type, value[field.name]));
    case "union":
      return schema.branches.some((branch) => fits(branch, value));
  }
}

export function encoderFor(schema: AvroSchema): Write {
  const known = encoders.get(schema);
  if (known) return known;
  const write = build(schema);
  encoders.set(schema, write);
  return write;
}

function build(schema: AvroSchema): Write {
  switch (schema.type) {
    case "union": {
      const branches = schema.branches;
      return (sink, value) => {
        const index = branches.findIndex((branch) => fits(branch, value));
        const branch = branches[index];
        if (branch === undefined) return wrong(schema, value);
        sink.writeLong(index);
        encoderFor(branch)(sink, value);
      };
    }
    case "record":
    case "error":
      return (sink, value) => {
        if (!isObject(value)) return wrong(schema, value);
        for (const field of schema.fields) {
          const own = value[field.name];
          // A missing field takes its default, given as JSON: only JSON-shaped defaults are supported here.
          encoderFor(field.type)(sink, own === undefined && field.hasDefault ? field.default : own);
        }
      };
    case "array":
      return (sink, value) => {
        if (!Array.isArray(value)) return wrong(schema, value);
        const item = encoderFor(schema.items);
        if (value.length > 0) sink.writeLong(value.length);
        for (const element of value) item(sink, element);
        sink.writeLong(0);
      };
    case "map":
      return (sink, value) => {
        if (!isObject(value)) return wrong(schema, value);
        const keys = Object.keys(value);
        const write = encoderFor(schema.values);
        if (keys.length > 0) sink.writeLong(keys.length);
        for (const key of keys) {
          sink.writeString(key);
          write(sink, value[key]);
        }
        sink.writeLong(0);
      };
    default:
      return primitive(schema);
  }
}

function primitive(schema: AvroSchema): Write {
  switch (schema.type) {
    case "null":
      return (_sink, value) => (fits(schema, value) ? undefined : wrong(schema, value));
    case "boolean":
      return (sink, value) => (typeof value === "boolean" ? sink.writeBoolean(value) : wrong(schema, value));
    case "int":
    case "long":
      return (sink, value) => (fits(schema, value) && typeof value === "number" ? sink.writeLong(value) : wrong(schema, value));
    case "float":
      return (sink, value) => (typeof value === "number" ? sink.writeFloat(value) : wrong(schema, value));
    case "double":
      return (sink, value) => (typeof value === "number" ? sink.writeDouble(value) : wrong(schema, value));
    case "string":
      return (sink, value) => (typeof value === "string" ? sink.writeString(value) : wrong(schema, value));
    case "bytes":
      return (sink, value) => (value instanceof Uint8Array ? sink.writeBytes(value) : wrong(schema, value));
    case "fixed":
      return (sink, value) => (fits(schema, value) && value instanceof Uint8Array ? sink.writeRaw(value) : wrong(schema, value));
    case "enum":
      return (sink, value) => {
        const index = typeof value === "string" ? schema.symbols.indexOf(value) : -1;
        return index >= 0 ? sink.writeLong(index) : wrong(schema, value);
      };
    default:
      return wrong(schema, undefined);
  }
}
