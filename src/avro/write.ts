/**
 * A small Avro writer for tests, the bench and fixtures: encodes values of a schema (Avro 1.11
 * "Binary Encoding") and builds object container files with the null or deflate codec. Eval-free
 * like the reader; values are validated against the schema as they are written.
 */
import { AvroError } from "./errors";
import { arrayBufferView } from "./inflate";
import { schemaToJson } from "./schema-json";
import type { AvroSchema } from "./schema-types";
import { encoderFor } from "./write-datum";
import { ByteSink } from "./write-sink";

export interface WriteContainerOptions {
  codec?: "null" | "deflate";
  /** Records per block (default 1000). */
  blockRecords?: number;
  /** 16 bytes; random when omitted. */
  sync?: Uint8Array;
  /** Extra header entries (`avro.schema` and `avro.codec` are always written). */
  metadata?: Record<string, Uint8Array | string>;
  /** Header schema text, e.g. to reproduce a writer's exact JSON (default: the schema serialized). */
  schemaJson?: string;
}

const MAGIC = new Uint8Array([0x4f, 0x62, 0x6a, 0x01]);
const encoder = new TextEncoder();

/** Encodes one datum of `schema`; throws AvroError SCHEMA_MISMATCH when the value does not fit it. */
export function encodeDatum(schema: AvroSchema, value: unknown): Uint8Array {
  const sink = new ByteSink();
  encoderFor(schema)(sink, value);
  return sink.toBytes();
}

/** Builds a complete object container file holding `records`. */
export async function writeContainer(
  schema: AvroSchema,
  records: Iterable<unknown>,
  options: WriteContainerOptions = {},
): Promise<Uint8Array> {
  const codec = options.codec ?? "null";
  const blockRecords = options.blockRecords ?? 1000;
  const sync = options.sync ?? crypto.getRandomValues(new Uint8Array(16));
  if (sync.length !== 16) throw new AvroError("BAD_SYNC", "a sync marker has 16 bytes");
  const write = encoderFor(schema);

  const file = new ByteSink();
  file.writeRaw(MAGIC);
  const metadata: Record<string, Uint8Array | string> = {
    ...options.metadata,
    "avro.schema": options.schemaJson ?? JSON.stringify(schemaToJson(schema)),
    "avro.codec": codec,
  };
  const keys = Object.keys(metadata);
  file.writeLong(keys.length);
  for (const key of keys) {
    file.writeString(key);
    const value = metadata[key] ?? "";
    file.writeBytes(typeof value === "string" ? encoder.encode(value) : value);
  }
  file.writeLong(0);
  file.writeRaw(sync);

  let block = new ByteSink();
  let count = 0;
  const flush = async () => {
    const data = block.toBytes();
    const payload = codec === "deflate" ? await deflateRaw(data) : data;
    file.writeLong(count);
    file.writeLong(payload.length);
    file.writeRaw(payload);
    file.writeRaw(sync);
    block = new ByteSink();
    count = 0;
  };
  for (const record of records) {
    write(block, record);
    count++;
    if (count >= blockRecords) await flush();
  }
  if (count > 0) await flush();
  return file.toBytes();
}

/** Raw deflate (RFC 1951), as the Avro deflate codec specifies. */
export async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([arrayBufferView(data)]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
