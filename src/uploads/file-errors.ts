/**
 * How a refused file is answered (DESIGN §6): not Avro → 415, a record type or codec Pulse does
 * not support → 422, anything damaged, empty or over a limit → 400. The Avro reader's code travels
 * along as the `avroError` member of the problem document so clients can tell the cases apart.
 */
import { type AvroErrorCode, isAvroError } from "../avro";
import { DomainError, type ErrorCode } from "../errors/domain-error";
import { RECORD_TYPES } from "../health-connect/record-types";

const STATUS_OF: Record<AvroErrorCode, ErrorCode> = {
  EMPTY_FILE: "BAD_REQUEST",
  BAD_MAGIC: "UNSUPPORTED_MEDIA_TYPE",
  TRUNCATED: "BAD_REQUEST",
  BAD_HEADER: "BAD_REQUEST",
  BAD_SYNC: "BAD_REQUEST",
  UNKNOWN_CODEC: "UNPROCESSABLE",
  LIMIT_EXCEEDED: "BAD_REQUEST",
  CORRUPT_DATA: "BAD_REQUEST",
  SCHEMA_MISMATCH: "UNPROCESSABLE",
  UNSUPPORTED_SCHEMA: "UNPROCESSABLE",
};

const LEAD: Record<AvroErrorCode, string> = {
  EMPTY_FILE: "The file is empty",
  BAD_MAGIC: "The file is not an Avro object container file (Health Connect export)",
  TRUNCATED: "The file is empty or truncated",
  BAD_HEADER: "The file's Avro header is malformed",
  BAD_SYNC: "The file is corrupt: a block is not followed by its sync marker",
  UNKNOWN_CODEC: "The file uses an unsupported codec; Pulse reads null and deflate",
  LIMIT_EXCEEDED: "The file exceeds a safety limit",
  CORRUPT_DATA: "The file is corrupt",
  SCHEMA_MISMATCH: "The file's writer schema cannot be read as its Health Connect record type",
  UNSUPPORTED_SCHEMA: "The file's Avro schema is not supported",
};

/** An AvroError as the problem it is for the uploader; anything else unchanged. */
export function fileProblem(error: unknown): unknown {
  if (!isAvroError(error)) return error;
  // The reader's messages name positions and sizes, never decoded values (src/avro/errors.ts).
  return new DomainError(STATUS_OF[error.code], `${LEAD[error.code]}: ${error.message}.`, {
    extensions: { avroError: error.code },
    cause: error,
  });
}

export function unsupportedRecordType(schemaName: string): DomainError {
  return new DomainError(
    "UNPROCESSABLE",
    `Record type ${schemaName} is not supported. Supported Health Connect record types: ${RECORD_TYPES.join(", ")}.`,
    { extensions: { avroError: "UNSUPPORTED_SCHEMA", supportedRecordTypes: [...RECORD_TYPES] } },
  );
}

export function noRecords(): DomainError {
  return new DomainError("BAD_REQUEST", "The file holds no records.");
}

/** A stored error message: bounded, and the same for the status route as for the logs. */
export function errorSummary(error: unknown): { code: string; message: string } {
  if (isAvroError(error)) return { code: error.code, message: error.message.slice(0, 500) };
  if (error instanceof DomainError) return { code: error.code, message: (error.detail ?? error.code).slice(0, 500) };
  return { code: "INTERNAL", message: "Processing failed unexpectedly; it will be retried." };
}
