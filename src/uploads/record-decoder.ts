import { type AvroSchema, createDecoder, parseSchema, type RecordDecoder, schemaFullName } from "../avro";
import { type RecordType, readerSchemaFor, recordTypeFromSchemaName } from "../health-connect/record-types";
import { unsupportedRecordType } from "./file-errors";

const readerSchemas = new Map<RecordType, AvroSchema>();

function readerSchema(type: RecordType): AvroSchema {
  let schema = readerSchemas.get(type);
  if (schema === undefined) {
    schema = parseSchema(readerSchemaFor(type));
    readerSchemas.set(type, schema);
  }
  return schema;
}

/**
 * The record type a file's writer schema names, and the decoder resolving it against that type's
 * published reader schema (DESIGN §6: writer schemas may differ from the published ones). A name
 * outside the 31 types is a 422; a writer schema that cannot resolve is AvroError SCHEMA_MISMATCH.
 */
export function recordDecoderFor(writer: AvroSchema): { recordType: RecordType; decoder: RecordDecoder } {
  const name = schemaFullName(writer);
  const recordType = recordTypeFromSchemaName(name);
  if (recordType === null) throw unsupportedRecordType(name.slice(0, 200));
  return { recordType, decoder: createDecoder(writer, readerSchema(recordType)) };
}
