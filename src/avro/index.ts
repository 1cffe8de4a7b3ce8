/**
 * Pulse's Avro reader (DESIGN §6, design (b)): interprets any writer schema and resolves it
 * against a reader schema by composing closures — no eval, no generated source — so it runs in
 * workerd and under the vitest workers harness. See docs/avro.md.
 */
export type { AvroCodec, AvroContainer, AvroContainerBlock, AvroContainerHeader, AvroContainerOptions } from "./container";
export { openContainer } from "./container";
export { AvroCursor } from "./cursor";
export type { RecordDecoder } from "./decoder";
export { createDecoder, decodeDatum } from "./decoder";
export type { AvroErrorCode } from "./errors";
export { AVRO_ERROR_CODES, AvroError, isAvroError } from "./errors";
export type { AvroLimits } from "./limits";
export { DEFAULT_AVRO_LIMITS } from "./limits";
export { canonicalForm, parseSchema, schemaFullName } from "./schema";
export type {
  AvroArraySchema,
  AvroEnumSchema,
  AvroField,
  AvroFixedSchema,
  AvroMapSchema,
  AvroNamedSchema,
  AvroPrimitiveSchema,
  AvroPrimitiveType,
  AvroRecordSchema,
  AvroSchema,
  AvroUnionSchema,
} from "./schema-types";
export type { WriteContainerOptions } from "./write";
export { encodeDatum, writeContainer } from "./write";
