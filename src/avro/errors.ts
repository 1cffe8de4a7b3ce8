/**
 * The Avro reader's error vocabulary: a closed set of stable codes so callers (the upload route,
 * the queue consumer) can map a refused file to an HTTP status without parsing messages.
 * Messages never carry decoded values (they may be health data), only positions and sizes.
 */
export const AVRO_ERROR_CODES = [
  /** The input has no bytes at all. */
  "EMPTY_FILE",
  /** The first four bytes are not `Obj\x01` (Avro 1.11 "Object Container Files"). */
  "BAD_MAGIC",
  /** The input ended inside the header, a block, or a datum. */
  "TRUNCATED",
  /** The header map is malformed, lacks `avro.schema`, or its schema JSON is invalid. */
  "BAD_HEADER",
  /** A block is not followed by the file's 16-byte sync marker. */
  "BAD_SYNC",
  /** `avro.codec` names a codec other than `null` or `deflate`. */
  "UNKNOWN_CODEC",
  /** A declared or actual size crossed one of the configured `AvroLimits`. */
  "LIMIT_EXCEEDED",
  /** The bytes cannot be a valid encoding (bad varint, union index out of range, bad deflate…). */
  "CORRUPT_DATA",
  /** The writer schema cannot be resolved against the reader schema. */
  "SCHEMA_MISMATCH",
  /** The schema JSON is not a valid (or supported) Avro schema. */
  "UNSUPPORTED_SCHEMA",
] as const;

export type AvroErrorCode = (typeof AVRO_ERROR_CODES)[number];

export class AvroError extends Error {
  readonly code: AvroErrorCode;

  constructor(code: AvroErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "AvroError";
    this.code = code;
  }
}

export function isAvroError(error: unknown): error is AvroError {
  return error instanceof AvroError;
}
