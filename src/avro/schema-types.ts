/**
 * The validated schema model (Avro 1.11 "Schema Declaration"). Named types carry full names;
 * references to a named type are the same object, so recursive schemas are cyclic graphs.
 * Logical types are kept as annotations only: values decode as their underlying type.
 */
export type AvroPrimitiveType = "null" | "boolean" | "int" | "long" | "float" | "double" | "bytes" | "string";

export interface AvroPrimitiveSchema {
  readonly type: AvroPrimitiveType;
  readonly logicalType?: string;
}

export interface AvroField {
  readonly name: string;
  readonly type: AvroSchema;
  readonly aliases: readonly string[];
  /** Whether the field declares a default (a default of `null` is still a default). */
  readonly hasDefault: boolean;
  /** The default as JSON (Avro spec: JSON encoding of the field's type). */
  readonly default?: unknown;
}

export interface AvroRecordSchema {
  readonly type: "record" | "error";
  /** Full name, e.g. `io.github.hitoshura25.healthsyncapp.data.avro.AvroHeartRateRecord`. */
  readonly name: string;
  /** Full names. */
  readonly aliases: readonly string[];
  readonly fields: readonly AvroField[];
}

export interface AvroEnumSchema {
  readonly type: "enum";
  readonly name: string;
  readonly aliases: readonly string[];
  readonly symbols: readonly string[];
  readonly default?: string;
}

export interface AvroFixedSchema {
  readonly type: "fixed";
  readonly name: string;
  readonly aliases: readonly string[];
  readonly size: number;
  readonly logicalType?: string;
}

export interface AvroArraySchema {
  readonly type: "array";
  readonly items: AvroSchema;
}

export interface AvroMapSchema {
  readonly type: "map";
  readonly values: AvroSchema;
}

export interface AvroUnionSchema {
  readonly type: "union";
  readonly branches: readonly AvroSchema[];
}

export type AvroNamedSchema = AvroRecordSchema | AvroEnumSchema | AvroFixedSchema;

export type AvroSchema = AvroPrimitiveSchema | AvroNamedSchema | AvroArraySchema | AvroMapSchema | AvroUnionSchema;
