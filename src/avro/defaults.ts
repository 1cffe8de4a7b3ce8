/**
 * Field defaults (Avro 1.11 "Complex Types: Records", default values table): the JSON in a
 * reader schema is turned into a decoded value once, when a decoder is built, and handed out as a
 * fresh copy for every record so that one record's mutation never leaks into the next.
 */
import { AvroError } from "./errors";
import type { AvroSchema } from "./schema-types";

export type DefaultFactory = () => unknown;

export function defaultFactory(schema: AvroSchema, json: unknown, where: string): DefaultFactory {
  const value = convert(schema, json, where);
  if (typeof value !== "object" || value === null) return () => value;
  return () => cloneValue(value);
}

function invalid(where: string, schema: AvroSchema): never {
  throw new AvroError("SCHEMA_MISMATCH", `default of ${where} is not a valid ${schema.type}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON strings stand for bytes by their code points 0-255 (the spec's ISO-8859-1 convention). */
function latin1(json: unknown, where: string, schema: AvroSchema): Uint8Array {
  if (typeof json !== "string") return invalid(where, schema);
  const bytes = new Uint8Array(json.length);
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    if (code > 0xff) return invalid(where, schema);
    bytes[i] = code;
  }
  return bytes;
}

function convert(schema: AvroSchema, json: unknown, where: string): unknown {
  switch (schema.type) {
    case "null":
      return json === null ? null : invalid(where, schema);
    case "boolean":
      return typeof json === "boolean" ? json : invalid(where, schema);
    case "int":
      return typeof json === "number" && Number.isInteger(json) && json >= -0x80000000 && json <= 0x7fffffff
        ? json
        : invalid(where, schema);
    case "long":
      return Number.isSafeInteger(json) ? json : invalid(where, schema);
    case "float":
    case "double":
      return typeof json === "number" ? json : invalid(where, schema);
    case "string":
      return typeof json === "string" ? json : invalid(where, schema);
    case "bytes":
      return latin1(json, where, schema);
    case "fixed": {
      const bytes = latin1(json, where, schema);
      return bytes.length === schema.size ? bytes : invalid(where, schema);
    }
    case "enum":
      return typeof json === "string" && schema.symbols.includes(json) ? json : invalid(where, schema);
    case "array":
      return Array.isArray(json) ? json.map((item) => convert(schema.items, item, where)) : invalid(where, schema);
    case "map":
      if (!isObject(json)) return invalid(where, schema);
      return entries(Object.keys(json).map((key) => [key, convert(schema.values, json[key], where)]));
    case "record":
    case "error": {
      if (!isObject(json)) return invalid(where, schema);
      return entries(
        schema.fields.map((field) => {
          const inner = `${where}.${field.name}`;
          if (Object.hasOwn(json, field.name)) return [field.name, convert(field.type, json[field.name], inner)];
          if (field.hasDefault) return [field.name, convert(field.type, field.default, inner)];
          return invalid(inner, field.type);
        }),
      );
    }
    case "union":
      // The spec ties a union's default to its first branch; later branches are accepted too
      // because real-world schemas (and avro-tools) are lenient here.
      for (const branch of schema.branches) {
        try {
          return convert(branch, json, where);
        } catch {}
      }
      return invalid(where, schema);
  }
}

/** A plain object from entries; `__proto__` becomes an own property rather than a prototype. */
export function entries(pairs: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of pairs) setOwn(out, key, value);
  return out;
}

export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

export function cloneValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) return value.map(cloneValue);
  if (isObject(value)) return entries(Object.keys(value).map((key) => [key, cloneValue(value[key])]));
  return value;
}
