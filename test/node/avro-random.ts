/**
 * Seeded generators of Avro schemas, values and reader-schema mutations for the differential tests
 * against avsc (test/node/avro-differential.test.ts). Unions only hold one branch per avsc
 * "bucket" (null, boolean, number, string/enum, bytes/fixed, array, map/record) so that avsc's
 * unwrapped unions (`wrapUnions: false`) and Pulse pick the same branch for a value.
 */
import type { AvroSchema } from "../../src/avro/index";

export type Rng = () => number;
type Json = unknown;
type JsonObject = Record<string, Json>;

/** mulberry32: small, fast, and the same sequence on every machine. */
export function seeded(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, 0, items.length - 1)] as T;

const PRIMITIVES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"] as const;

function bucket(type: Json, kinds: Map<string, string>): string {
  const name = typeof type === "string" ? type : String((type as JsonObject).type);
  const kind = kinds.get(name) ?? name;
  if (["int", "long", "float", "double"].includes(kind)) return "number";
  if (kind === "enum") return "string";
  if (kind === "fixed") return "bytes";
  if (kind === "record" || kind === "error") return "map";
  return kind;
}

/** Generates schema JSON; `kinds` maps every defined full name to its kind, for references. */
export class SchemaGenerator {
  private count = 0;
  /** The enclosing namespace (Avro 1.11 "Names"): named types defined inside a record inherit it. */
  private namespace = "";
  readonly kinds = new Map<string, string>();

  /** `prefix` keeps the names of two generators used on one schema apart. */
  constructor(
    private readonly rng: Rng,
    private readonly prefix = "",
  ) {}

  private name(kind: string): string {
    this.count++;
    return `${this.prefix}${kind}${this.count}`;
  }

  private fullName(name: string): string {
    return this.namespace ? `${this.namespace}.${name}` : name;
  }

  record(depth = 0, open: string[] = []): JsonObject {
    const rng = this.rng;
    const namespaced = rng() < 0.3;
    const name = this.name("R");
    const full = namespaced ? `${this.prefix}ns${this.count}.${name}` : this.fullName(name);
    this.kinds.set(full, "record");
    const fields: JsonObject[] = [];
    const enclosing = this.namespace;
    this.namespace = full.slice(0, Math.max(0, full.lastIndexOf(".")));
    for (let i = int(rng, 1, 5); i > 0; i--) {
      fields.push({ name: `f${fields.length}`, type: this.type(depth + 1, [...open, full]) });
    }
    this.namespace = enclosing;
    // A way back to the record itself keeps some schemas recursive, with a finite exit (null, []).
    if (rng() < 0.15) fields.push({ name: "next", type: rng() < 0.5 ? ["null", full] : { type: "array", items: full } });
    return namespaced
      ? { type: "record", name, namespace: full.slice(0, full.lastIndexOf(".")), fields }
      : { type: "record", name, fields };
  }

  type(depth: number, open: string[] = []): Json {
    const rng = this.rng;
    const roll = rng();
    if (depth > 3 || roll < 0.4) return pick(rng, PRIMITIVES);
    if (roll < 0.48) {
      const name = this.name("E");
      this.kinds.set(this.fullName(name), "enum");
      const symbols = Array.from({ length: int(rng, 1, 5) }, (_, i) => `S${i}`);
      return { type: "enum", name, symbols };
    }
    if (roll < 0.53) {
      const name = this.name("F");
      this.kinds.set(this.fullName(name), "fixed");
      return { type: "fixed", name, size: int(rng, 0, 8) };
    }
    if (roll < 0.62) return { type: "array", items: this.type(depth + 1, open) };
    if (roll < 0.7) return { type: "map", values: this.type(depth + 1, open) };
    if (roll < 0.85) return this.union(depth, open);
    // A name in the null namespace cannot be referred to from inside a namespace (avsc, like the
    // spec, qualifies it with the enclosing namespace).
    const closed = [...this.kinds.keys()].filter((name) => !open.includes(name) && (name.includes(".") || !this.namespace));
    if (roll < 0.9 && closed.length > 0) return pick(rng, closed);
    return this.record(depth, open);
  }

  union(depth: number, open: string[]): Json[] {
    const branches: Json[] = [];
    const buckets = new Set<string>();
    for (let tries = int(this.rng, 2, 6); tries > 0; tries--) {
      const defined = new Set(this.kinds.keys());
      const branch = this.type(depth + 1, open);
      const key = Array.isArray(branch) ? "union" : bucket(branch, this.kinds);
      // string and bytes promote to each other, so avsc resolves either to whichever comes first.
      const clash = (branch === "string" && branches.includes("bytes")) || (branch === "bytes" && branches.includes("string"));
      if (key === "union" || buckets.has(key) || clash) {
        // A dropped branch takes the names it defined with it: nothing may refer to them.
        for (const name of this.kinds.keys()) if (!defined.has(name)) this.kinds.delete(name);
        continue;
      }
      buckets.add(key);
      branches.push(branch);
    }
    return branches.length > 0 ? branches : ["null"];
  }
}

export interface ValueOptions {
  /** Keeps numbers exact through promotions to float (|v| < 2^24) and JSON-safe (no NaN, ±Infinity, -0). */
  small?: boolean;
  /** Always the first branch of a union, as field defaults require. */
  firstBranch?: boolean;
}

const STRING_PARTS = ["a", "Z", "0", " ", "é", "ß", "€", "中", "😀", "\u0000", '"', "\\"];

export function randomString(rng: Rng): string {
  const long = rng() < 0.2;
  let text = "";
  for (let i = int(rng, 0, long ? 60 : 12); i > 0; i--)
    text += rng() < 0.7 ? String.fromCharCode(int(rng, 32, 126)) : pick(rng, STRING_PARTS);
  return text;
}

function randomNumber(rng: Rng, type: string, options: ValueOptions): number {
  const small = options.small === true;
  switch (type) {
    case "int":
      return small ? int(rng, -(2 ** 24), 2 ** 24) : int(rng, -(2 ** 31), 2 ** 31 - 1);
    case "long":
      if (small || rng() < 0.5) return int(rng, -(2 ** 24), 2 ** 24);
      return Math.max(-(2 ** 53 - 1), Math.min(2 ** 53 - 1, Math.round((rng() * 2 - 1) * 2 ** 53)));
    case "float":
      if (!small && rng() < 0.1) return pick(rng, [Number.NaN, Number.POSITIVE_INFINITY, -0]);
      return Math.fround((rng() * 2 - 1) * 10 ** int(rng, 0, 6));
    default:
      if (!small && rng() < 0.1) return pick(rng, [Number.NaN, Number.NEGATIVE_INFINITY, -0, Number.MIN_VALUE]);
      return (rng() * 2 - 1) * 10 ** int(rng, -3, 12);
  }
}

/** A random value of a parsed schema; recursion ends through null branches and empty arrays. */
export function randomValue(rng: Rng, schema: AvroSchema, options: ValueOptions = {}, depth = 0): unknown {
  const deep = depth > 6;
  switch (schema.type) {
    case "null":
      return null;
    case "boolean":
      return rng() < 0.5;
    case "int":
    case "long":
    case "float":
    case "double":
      return randomNumber(rng, schema.type, options);
    case "string":
      return randomString(rng);
    case "bytes":
      return Uint8Array.from({ length: int(rng, 0, 30) }, () => int(rng, 0, 255));
    case "fixed":
      return Uint8Array.from({ length: schema.size }, () => int(rng, 0, 255));
    case "enum":
      return pick(rng, schema.symbols);
    case "array":
      return Array.from({ length: deep ? 0 : int(rng, 0, 4) }, () => randomValue(rng, schema.items, options, depth + 1));
    case "map": {
      const map: Record<string, unknown> = {};
      for (let i = deep ? 0 : int(rng, 0, 3); i > 0; i--)
        map[`k${randomString(rng)}`] = randomValue(rng, schema.values, options, depth + 1);
      return map;
    }
    case "union": {
      const nullBranch = schema.branches.find((branch) => branch.type === "null");
      const first = options.firstBranch ? schema.branches[0] : undefined;
      const branch = first ?? (deep && nullBranch ? nullBranch : pick(rng, schema.branches));
      return randomValue(rng, branch, options, depth + 1);
    }
    default: {
      const record: Record<string, unknown> = {};
      for (const field of schema.fields) record[field.name] = randomValue(rng, field.type, options, depth + 1);
      return record;
    }
  }
}

/** A value as field-default JSON (Avro 1.11: bytes and fixed as ISO-8859-1 strings). */
export function toDefaultJson(value: unknown): Json {
  if (value instanceof Uint8Array) return String.fromCharCode(...value);
  if (Array.isArray(value)) return value.map(toDefaultJson);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toDefaultJson(inner)]));
  }
  return value;
}

/** Uint8Array → Buffer, recursively, for avsc, whose bytes and fixed values are Buffers. */
export function toAvsc(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(toAvsc);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toAvsc(inner)]));
  return value;
}

/** Comparable form of a decoded value: bytes as hex, records and maps as plain objects. */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString("hex") };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  return value;
}

export { bucket };

const PROMOTIONS: Record<string, readonly string[]> = {
  int: ["long", "float", "double"],
  long: ["float", "double"],
  float: ["double"],
  string: ["bytes"],
  bytes: ["string"],
};

function collect(node: Json, out: JsonObject[]): JsonObject[] {
  if (Array.isArray(node)) for (const item of node) collect(item, out);
  else if (typeof node === "object" && node !== null) {
    const object = node as JsonObject;
    if (object.type === "record" || object.type === "enum") out.push(object);
    if (Array.isArray(object.fields)) for (const field of object.fields as JsonObject[]) collect(field.type, out);
    collect(object.items, out);
    collect(object.values, out);
  }
  return out;
}

function shuffle<T>(rng: Rng, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = int(rng, 0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}

/**
 * A reader schema evolved from `writer` the ways Avro 1.11 resolution allows: fields added with
 * defaults, removed, reordered, renamed with aliases, promoted, wrapped in unions; union branches
 * added or promoted; enum symbols added, or removed behind a default; the top record renamed with
 * an alias. `parse` turns a self-contained schema JSON into the model, for defaults. Removing or
 * reordering fields can move a named type's definition after a use of it; the caller discards
 * readers that do not parse.
 */
export function evolve(rng: Rng, writer: JsonObject, kinds: Map<string, string>, parse: (json: Json) => AvroSchema): JsonObject {
  const reader = structuredClone(writer);
  let added = 0;
  for (const node of collect(reader, [])) {
    if (node.type === "enum") {
      const symbols = node.symbols as string[];
      if (rng() < 0.3) symbols.push(`S${symbols.length + 10}`);
      if (rng() < 0.25 && symbols.length > 1) {
        symbols.splice(int(rng, 0, symbols.length - 1), 1);
        node.default = symbols[0];
      }
      continue;
    }
    const fields = node.fields as JsonObject[];
    if (rng() < 0.3 && fields.length > 1) fields.splice(int(rng, 0, fields.length - 1), 1);
    if (rng() < 0.3) shuffle(rng, fields);
    for (const field of fields) evolveField(rng, field, kinds);
    if (rng() < 0.35) {
      // Its own generator: the new type must be self-contained to be parsed alone for its default.
      const type = new SchemaGenerator(rng, `N${added++}_`).type(1);
      const value = randomValue(rng, parse(type), { small: true, firstBranch: true });
      fields.splice(int(rng, 0, fields.length), 0, { name: `added${fields.length}`, type, default: toDefaultJson(value) });
    }
  }
  const name = String(reader.namespace ? `${reader.namespace}.${reader.name}` : reader.name);
  // A recursive record would now refer to a name that no longer exists: such readers fail to parse
  // and the caller draws another one.
  if (rng() < 0.2) {
    reader.aliases = [name];
    reader.name = "Renamed";
  }
  return reader;
}

function evolveField(rng: Rng, field: JsonObject, kinds: Map<string, string>): void {
  const type = field.type;
  if (typeof type === "string" && PROMOTIONS[type] && rng() < 0.25) field.type = pick(rng, PROMOTIONS[type] ?? []);
  else if (Array.isArray(type) && rng() < 0.3) {
    const index = int(rng, 0, type.length - 1);
    const branch = type[index];
    const promoted = typeof branch === "string" ? PROMOTIONS[branch] : undefined;
    const taken = new Set(type.map((item) => bucket(item, kinds)));
    if (promoted && rng() < 0.5) {
      const target = pick(rng, promoted);
      const others = type.filter((_, i) => i !== index);
      const clash = others.some(
        (other) => bucket(other, kinds) === bucket(target, kinds) || other === "string" || other === "bytes",
      );
      if (!clash) type[index] = target;
    } else {
      // string and bytes promote to each other: with both in the union, avsc takes the first one and
      // Pulse (like the Java implementation) the exact one; that divergence has its own test.
      const added = pick(rng, ["null", "boolean", "long", "string", "bytes"]);
      const clash = taken.has("string") || taken.has("bytes") ? ["string", "bytes"] : [];
      if (!taken.has(bucket(added, kinds)) && !clash.includes(added)) type.splice(int(rng, 0, type.length), 0, added);
    }
  } else if (!Array.isArray(type) && type !== "null" && rng() < 0.12) {
    field.type = rng() < 0.5 ? ["null", type] : [type, "null"];
  }
  if (rng() < 0.1) {
    field.aliases = [field.name];
    field.name = `${field.name}_renamed`;
  }
}
