/**
 * Decoders: a writer/reader resolution (resolve.ts) built once and cached per reader schema and
 * writer canonical form, so every file written with the same schema reuses one decoder per isolate.
 */
import type { Read } from "./collections";
import { AvroCursor } from "./cursor";
import { AvroError } from "./errors";
import type { AvroLimits } from "./limits";
import { resolveLimits } from "./limits";
import { resolve } from "./resolve";
import { canonicalForm } from "./schema";
import type { AvroSchema } from "./schema-types";
import { minEncodedSize } from "./skip";

/** Decodes one datum written with `writer` into the shape of `reader`. Built once, reused per datum. */
export interface RecordDecoder {
  readonly writer: AvroSchema;
  readonly reader: AvroSchema;
  /** Parsing Canonical Form of the writer schema: decoders with equal forms read the same bytes. */
  readonly writerCanonical: string;
  /** Lower bound of the encoded size of one datum, to check declared item counts against. */
  readonly minDatumBytes: number;
  decode(cursor: AvroCursor): unknown;
}

// Writer schemas come from uploads: the cache per reader is bounded so that a stream of distinct
// writer schemas cannot grow an isolate's memory.
const MAX_CACHED_WRITERS = 64;
const cache = new WeakMap<AvroSchema, Map<string, RecordDecoder>>();

/**
 * Builds the resolution of `writer` against `reader` (Avro 1.11 "Schema Resolution"), or returns
 * the cached one. Throws AvroError SCHEMA_MISMATCH when the schemas cannot be resolved.
 */
export function createDecoder(writer: AvroSchema, reader: AvroSchema = writer): RecordDecoder {
  const writerCanonical = canonicalForm(writer);
  let perReader = cache.get(reader);
  const cached = perReader?.get(writerCanonical);
  if (cached) return cached;
  const read: Read = resolve(writer, reader, new Map());
  const decoder: RecordDecoder = { writer, reader, writerCanonical, minDatumBytes: minEncodedSize(writer), decode: read };
  if (!perReader) {
    perReader = new Map();
    cache.set(reader, perReader);
  }
  if (perReader.size >= MAX_CACHED_WRITERS) {
    const oldest = perReader.keys().next();
    if (!oldest.done) perReader.delete(oldest.value);
  }
  perReader.set(writerCanonical, decoder);
  return decoder;
}

/** Decodes one bare datum (Avro 1.11 "Binary Encoding") that must occupy all of `bytes`. */
export function decodeDatum(decoder: RecordDecoder, bytes: Uint8Array, limits?: Partial<AvroLimits>): unknown {
  const cursor = new AvroCursor(bytes, resolveLimits(limits));
  const value = decoder.decode(cursor);
  if (cursor.pos !== bytes.length) throw new AvroError("CORRUPT_DATA", `${bytes.length - cursor.pos} bytes after the datum`);
  return value;
}
