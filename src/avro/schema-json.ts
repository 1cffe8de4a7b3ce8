/**
 * The schema model back to schema JSON, with full names, aliases, defaults and logical types,
 * each named type spelled out once (later uses are its name). Used for container headers.
 */
import type { AvroSchema } from "./schema-types";

export function schemaToJson(schema: AvroSchema, seen: Set<string> = new Set()): unknown {
  switch (schema.type) {
    case "union":
      return schema.branches.map((branch) => schemaToJson(branch, seen));
    case "array":
      return { type: "array", items: schemaToJson(schema.items, seen) };
    case "map":
      return { type: "map", values: schemaToJson(schema.values, seen) };
    case "record":
    case "error":
    case "enum":
    case "fixed": {
      if (seen.has(schema.name)) return schema.name;
      seen.add(schema.name);
      const named = { type: schema.type, name: schema.name, ...(schema.aliases.length > 0 ? { aliases: schema.aliases } : {}) };
      if (schema.type === "enum") {
        return { ...named, symbols: schema.symbols, ...(schema.default === undefined ? {} : { default: schema.default }) };
      }
      if (schema.type === "fixed") {
        return { ...named, size: schema.size, ...(schema.logicalType === undefined ? {} : { logicalType: schema.logicalType }) };
      }
      const fields = schema.fields.map((field) => ({
        name: field.name,
        type: schemaToJson(field.type, seen),
        ...(field.aliases.length > 0 ? { aliases: field.aliases } : {}),
        ...(field.hasDefault ? { default: field.default } : {}),
      }));
      return { ...named, fields };
    }
    default:
      return schema.logicalType === undefined ? schema.type : { type: schema.type, logicalType: schema.logicalType };
  }
}
