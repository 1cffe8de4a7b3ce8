/**
 * Object container files (Avro 1.11 "Object Container Files"): `Obj\x01`, a metadata map holding
 * `avro.schema` and `avro.codec`, a 16-byte sync marker, then blocks of (object count, byte size,
 * objects, sync marker). Read from a stream block by block; every declared size is checked against
 * `AvroLimits` before it is read, inflated or allocated.
 */
import { ByteSource } from "./byte-source";
import { AvroCursor } from "./cursor";
import type { RecordDecoder } from "./decoder";
import { AvroError } from "./errors";
import { readHeader } from "./header";
import { inflateRaw } from "./inflate";
import type { AvroLimits } from "./limits";
import { resolveLimits } from "./limits";
import { canonicalForm } from "./schema";
import type { AvroSchema } from "./schema-types";

export type AvroCodec = "null" | "deflate";

export interface AvroContainerHeader {
  /** The writer schema, parsed from `avro.schema`. */
  readonly schema: AvroSchema;
  readonly schemaJson: string;
  readonly codec: AvroCodec;
  readonly sync: Uint8Array;
  /** Every header entry, `avro.*` included. */
  readonly metadata: Readonly<Record<string, Uint8Array>>;
}

export interface AvroContainerBlock {
  /** 0-based block number within the file. */
  readonly index: number;
  readonly records: unknown[];
  /** Offset of the block's first byte (its count varint) from the start of the file. */
  readonly byteOffset: number;
}

export interface AvroContainer {
  readonly header: AvroContainerHeader;
  /**
   * Decodes the file block by block; each block is read, inflated and decoded only when asked
   * for. The decoder must be built for the header's schema (`createDecoder(header.schema, reader)`).
   * Can be iterated once; leaving the loop early or failing cancels the source.
   */
  blocks(decoder: RecordDecoder): AsyncGenerator<AvroContainerBlock, void, undefined>;
  /** Releases the source stream (e.g. after validating the first block of an upload). */
  cancel(): Promise<void>;
}

export interface AvroContainerOptions {
  limits?: Partial<AvroLimits>;
}

/** Opens an object container file and reads its header; the blocks are read on demand. */
export async function openContainer(
  source: ReadableStream<Uint8Array>,
  options: AvroContainerOptions = {},
): Promise<AvroContainer> {
  const limits = resolveLimits(options.limits);
  const bytes = new ByteSource(source);
  let header: AvroContainerHeader;
  try {
    header = await readHeader(bytes, limits);
  } catch (error) {
    await bytes.cancel();
    throw error;
  }
  let started = false;
  return {
    header,
    blocks(decoder) {
      if (decoder.writerCanonical !== canonicalForm(header.schema)) {
        throw new AvroError("SCHEMA_MISMATCH", "the decoder was built for another writer schema");
      }
      if (started) throw new Error("the blocks of a container can be read once");
      started = true;
      return readBlocks(bytes, header, decoder, limits);
    },
    cancel: () => bytes.cancel(),
  };
}

async function* readBlocks(
  source: ByteSource,
  header: AvroContainerHeader,
  decoder: RecordDecoder,
  limits: AvroLimits,
): AsyncGenerator<AvroContainerBlock, void, undefined> {
  let finished = false;
  let inflated = 0;
  try {
    for (let index = 0; !(await source.atEnd()); index++) {
      const byteOffset = source.position;
      const count = await source.readLong();
      const size = await source.readLong();
      checkDeclared(count, size, header.codec, decoder.minDatumBytes, limits);
      const data = await source.readExact(size);
      const marker = await source.readExact(16);
      if (!sameBytes(marker, header.sync)) throw new AvroError("BAD_SYNC", `block ${index} does not end with the sync marker`);
      const bound = Math.min(limits.maxInflatedBlockBytes, limits.maxTotalBytes - inflated);
      const bytes = header.codec === "deflate" ? inflateRaw(data, bound, `${bound} bytes`) : data;
      inflated += bytes.length;
      if (inflated > limits.maxTotalBytes)
        throw new AvroError("LIMIT_EXCEEDED", `file holds more than ${limits.maxTotalBytes} bytes`);
      yield { index, records: decodeBlock(bytes, count, decoder, limits, index), byteOffset };
    }
    finished = true;
  } finally {
    if (!finished) await source.cancel();
  }
}

function checkDeclared(count: number, size: number, codec: AvroCodec, minDatumBytes: number, limits: AvroLimits): void {
  if (count < 0 || size < 0) throw new AvroError("CORRUPT_DATA", "negative block count or size");
  if (count > limits.maxBlockItems)
    throw new AvroError("LIMIT_EXCEEDED", `block declares ${count} objects (limit ${limits.maxBlockItems})`);
  if (size > limits.maxBlockBytes)
    throw new AvroError("LIMIT_EXCEEDED", `block declares ${size} bytes (limit ${limits.maxBlockBytes})`);
  // Objects that cannot fit in the block are refused before its bytes are read or inflated.
  const needed = count * minDatumBytes;
  if (codec === "null" && needed > size) throw new AvroError("CORRUPT_DATA", `${count} objects cannot fit in ${size} bytes`);
  if (needed > limits.maxInflatedBlockBytes) {
    throw new AvroError("LIMIT_EXCEEDED", `${count} objects need more than ${limits.maxInflatedBlockBytes} bytes`);
  }
}

function decodeBlock(bytes: Uint8Array, count: number, decoder: RecordDecoder, limits: AvroLimits, index: number): unknown[] {
  const cursor = new AvroCursor(bytes, limits);
  const records: unknown[] = [];
  try {
    for (let i = 0; i < count; i++) records.push(decoder.decode(cursor));
  } catch (error) {
    // The block's bytes were all there: running out means its count or contents are forged.
    if (error instanceof AvroError && error.code === "TRUNCATED") {
      throw new AvroError("CORRUPT_DATA", `block ${index} ends inside an object`, { cause: error });
    }
    throw error;
  }
  if (cursor.pos !== bytes.length)
    throw new AvroError("CORRUPT_DATA", `block ${index} has ${bytes.length - cursor.pos} bytes after its objects`);
  return records;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
