/**
 * Schema parsing (Avro 1.11 "Schema Declaration", "Names") and Parsing Canonical Form.
 *
 * Writer schemas come from uploaded files, so parsing is defensive: nesting depth is bounded,
 * names are validated, and anything outside the specification is AvroError UNSUPPORTED_SCHEMA.
 * Field defaults are kept as JSON and only interpreted when resolution needs them (decoder.ts):
 * a writer's defaults never matter, and refusing a file over one would help nobody.
 */
import { AvroError } from "./errors";
import { DEFAULT_AVRO_LIMITS } from "./limits";
import type { AvroField, AvroNamedSchema, AvroPrimitiveType, AvroSchema } from "./schema-types";

const PRIMITIVES: ReadonlySet<string> = new Set(["null", "boolean", "int", "long", "float", "double", "bytes", "string"]);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ParseSchemaOptions {
  /** Nesting bound for the schema JSON (defaults to `DEFAULT_AVRO_LIMITS.maxDepth`). */
  maxDepth?: number;
}

interface Scope {
  readonly names: Map<string, AvroNamedSchema>;
  readonly maxDepth: number;
}

// Reader schemas are usually module constants (e.g. the generated Health Connect schemas): parsing
// the same object again returns the same model, which keeps createDecoder's cache effective.
const parsedObjects = new WeakMap<object, AvroSchema>();

/**
 * Validates schema JSON (a parsed value or its text) into the schema model. A JSON object is
 * parsed once and must not be mutated afterwards.
 */
export function parseSchema(json: unknown, options: ParseSchemaOptions = {}): AvroSchema {
  const cacheable = typeof json === "object" && json !== null && options.maxDepth === undefined;
  const cached = cacheable ? parsedObjects.get(json) : undefined;
  if (cached) return cached;
  const schema = parseValue(json, options);
  if (cacheable) parsedObjects.set(json, schema);
  return schema;
}

function parseValue(json: unknown, options: ParseSchemaOptions): AvroSchema {
  let value = json;
  if (typeof json === "string" && !PRIMITIVES.has(json)) {
    try {
      value = JSON.parse(json);
    } catch (cause) {
      throw new AvroError("UNSUPPORTED_SCHEMA", "schema is not valid JSON", { cause });
    }
  }
  const scope: Scope = { names: new Map(), maxDepth: options.maxDepth ?? DEFAULT_AVRO_LIMITS.maxDepth };
  return parseNode(value, "", scope, 0);
}

/** The full name of a named schema, or the type name of an unnamed one (`array`, `map`, `union`, primitives). */
export function schemaFullName(schema: AvroSchema): string {
  return "name" in schema ? schema.name : schema.type;
}

/** The unqualified part of a full name. */
export function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf(".") + 1);
}

function fail(message: string): never {
  throw new AvroError("UNSUPPORTED_SCHEMA", message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseNode(node: unknown, namespace: string, scope: Scope, depth: number): AvroSchema {
  if (depth > scope.maxDepth) throw new AvroError("LIMIT_EXCEEDED", `schema nesting deeper than ${scope.maxDepth}`);
  if (typeof node === "string") return parseReference(node, namespace, scope);
  if (Array.isArray(node)) return parseUnion(node, namespace, scope, depth);
  if (!isObject(node)) return fail("a schema must be a string, an object or an array");
  const type = node.type;
  if (typeof type !== "string") {
    // `{"type": {...}}` and `{"type": [...]}` are nested schemas written as attributes.
    if (isObject(type) || Array.isArray(type)) return parseNode(type, namespace, scope, depth + 1);
    return fail("a schema object needs a string `type`");
  }
  const logicalType = typeof node.logicalType === "string" ? node.logicalType : undefined;
  if (PRIMITIVES.has(type)) {
    const primitive = type as AvroPrimitiveType;
    return logicalType === undefined ? { type: primitive } : { type: primitive, logicalType };
  }
  switch (type) {
    case "record":
    case "error":
      return parseRecord(node, type, namespace, scope, depth);
    case "enum":
      return parseEnum(node, namespace, scope);
    case "fixed":
      return parseFixed(node, namespace, scope, logicalType);
    case "array":
      if (!("items" in node)) return fail("an array needs `items`");
      return { type: "array", items: parseNode(node.items, namespace, scope, depth + 1) };
    case "map":
      if (!("values" in node)) return fail("a map needs `values`");
      return { type: "map", values: parseNode(node.values, namespace, scope, depth + 1) };
    default:
      return parseReference(type, namespace, scope);
  }
}

function parseReference(name: string, namespace: string, scope: Scope): AvroSchema {
  if (PRIMITIVES.has(name)) return { type: name as AvroPrimitiveType };
  const found = (namespace && !name.includes(".") && scope.names.get(`${namespace}.${name}`)) || scope.names.get(name);
  if (!found) return fail(`unknown type ${JSON.stringify(name.slice(0, 200))}`);
  return found;
}

function parseUnion(node: unknown[], namespace: string, scope: Scope, depth: number): AvroSchema {
  const branches = node.map((branch) => parseNode(branch, namespace, scope, depth + 1));
  const seen = new Set<string>();
  for (const branch of branches) {
    if (branch.type === "union") fail("a union may not immediately contain a union");
    const key = "name" in branch ? branch.name : branch.type;
    if (seen.has(key)) fail(`a union may not contain ${key} twice`);
    seen.add(key);
  }
  return { type: "union", branches };
}

function fullName(node: Record<string, unknown>, enclosing: string): { name: string; namespace: string } {
  const name = node.name;
  if (typeof name !== "string") return fail("a named type needs a string `name`");
  const explicit = node.namespace;
  if (explicit !== undefined && explicit !== null && typeof explicit !== "string") fail("`namespace` must be a string");
  const qualified = name.includes(".") ? name : qualify(typeof explicit === "string" ? explicit : enclosing, name);
  checkFullName(qualified);
  return { name: qualified, namespace: qualified.slice(0, Math.max(0, qualified.lastIndexOf("."))) };
}

function qualify(namespace: string, name: string): string {
  return namespace ? `${namespace}.${name}` : name;
}

function checkFullName(name: string): void {
  if (!name.split(".").every((part) => NAME.test(part))) fail(`invalid name ${JSON.stringify(name.slice(0, 200))}`);
  if (PRIMITIVES.has(name)) fail(`a named type may not be called ${name}`);
}

function parseAliases(node: Record<string, unknown>, namespace: string, qualified: boolean): string[] {
  const aliases = node.aliases ?? [];
  if (!Array.isArray(aliases) || !aliases.every((alias) => typeof alias === "string")) fail("`aliases` must be strings");
  return aliases.map((alias: string) => {
    const name = qualified && !alias.includes(".") ? qualify(namespace, alias) : alias;
    checkFullName(name);
    return name;
  });
}

function register(scope: Scope, schema: AvroNamedSchema): void {
  if (scope.names.has(schema.name)) fail(`${schema.name} is defined twice`);
  scope.names.set(schema.name, schema);
}

function parseRecord(
  node: Record<string, unknown>,
  type: "record" | "error",
  enclosing: string,
  scope: Scope,
  depth: number,
): AvroSchema {
  const { name, namespace } = fullName(node, enclosing);
  if (!Array.isArray(node.fields)) return fail(`record ${name} needs a \`fields\` array`);
  const fields: AvroField[] = [];
  // Registered before its fields are parsed so that a field may refer to the record itself.
  const record = { type, name, aliases: parseAliases(node, namespace, true), fields };
  register(scope, record);
  const seen = new Set<string>();
  for (const field of node.fields) {
    if (!isObject(field) || typeof field.name !== "string" || !NAME.test(field.name)) fail(`record ${name} has an invalid field`);
    if (seen.has(field.name)) fail(`record ${name} has field ${field.name} twice`);
    seen.add(field.name);
    if (!("type" in field)) fail(`field ${name}.${field.name} needs a type`);
    const fieldType = parseNode(field.type, namespace, scope, depth + 1);
    const aliases = parseAliases(field, namespace, false);
    fields.push(
      "default" in field
        ? { name: field.name, type: fieldType, aliases, hasDefault: true, default: field.default }
        : {
            name: field.name,
            type: fieldType,
            aliases,
            hasDefault: false,
          },
    );
  }
  return record;
}

function parseEnum(node: Record<string, unknown>, enclosing: string, scope: Scope): AvroSchema {
  const { name, namespace } = fullName(node, enclosing);
  const symbols = node.symbols;
  if (!Array.isArray(symbols) || !symbols.every((symbol) => typeof symbol === "string" && NAME.test(symbol))) {
    return fail(`enum ${name} needs valid \`symbols\``);
  }
  if (new Set(symbols).size !== symbols.length) fail(`enum ${name} repeats a symbol`);
  const fallback = node.default;
  if (fallback !== undefined && (typeof fallback !== "string" || !symbols.includes(fallback))) {
    fail(`enum ${name} default is not one of its symbols`);
  }
  const schema = { type: "enum" as const, name, aliases: parseAliases(node, namespace, true), symbols: symbols as string[] };
  const result = typeof fallback === "string" ? { ...schema, default: fallback } : schema;
  register(scope, result);
  return result;
}

function parseFixed(node: Record<string, unknown>, enclosing: string, scope: Scope, logicalType: string | undefined): AvroSchema {
  const { name, namespace } = fullName(node, enclosing);
  const size = node.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return fail(`fixed ${name} needs a valid size`);
  const schema = { type: "fixed" as const, name, aliases: parseAliases(node, namespace, true), size };
  const result = logicalType === undefined ? schema : { ...schema, logicalType };
  register(scope, result);
  return result;
}

/**
 * Avro 1.11 "Parsing Canonical Form": full names, no attributes but name/type/fields/symbols/
 * items/values/size in that order, named types spelled out once. Two schemas with the same form
 * decode the same bytes the same way, so it keys the decoder cache.
 */
export function canonicalForm(schema: AvroSchema): string {
  return canonical(schema, new Set());
}

function canonical(schema: AvroSchema, seen: Set<string>): string {
  switch (schema.type) {
    case "union":
      return `[${schema.branches.map((branch) => canonical(branch, seen)).join(",")}]`;
    case "array":
      return `{"type":"array","items":${canonical(schema.items, seen)}}`;
    case "map":
      return `{"type":"map","values":${canonical(schema.values, seen)}}`;
    case "record":
    case "error":
    case "enum":
    case "fixed": {
      const name = JSON.stringify(schema.name);
      if (seen.has(schema.name)) return name;
      seen.add(schema.name);
      if (schema.type === "enum") return `{"name":${name},"type":"enum","symbols":${JSON.stringify(schema.symbols)}}`;
      if (schema.type === "fixed") return `{"name":${name},"type":"fixed","size":${schema.size}}`;
      const fields = schema.fields.map((field) => `{"name":${JSON.stringify(field.name)},"type":${canonical(field.type, seen)}}`);
      return `{"name":${name},"type":${JSON.stringify(schema.type)},"fields":[${fields.join(",")}]}`;
    }
    default:
      return JSON.stringify(schema.type);
  }
}
