/**
 * The container header (Avro 1.11 "Object Container Files"): magic, metadata map, sync marker.
 * The whole header is bounded by `maxHeaderBytes`; each key and value length is checked against
 * the bytes left in that budget before it is read.
 */
import type { ByteSource } from "./byte-source";
import type { AvroCodec, AvroContainerHeader } from "./container";
import { AvroError } from "./errors";
import type { AvroLimits } from "./limits";
import { parseSchema } from "./schema";

const MAGIC = [0x4f, 0x62, 0x6a, 0x01];
const CODECS: ReadonlySet<string> = new Set(["null", "deflate"]);
const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export async function readHeader(source: ByteSource, limits: AvroLimits): Promise<AvroContainerHeader> {
  await checkMagic(source);
  const metadata = await readMetadata(source, limits);
  const sync = (await source.readExact(16)).slice();
  if (source.position > limits.maxHeaderBytes) throw overHeader(limits);

  const schemaBytes = metadata["avro.schema"];
  if (!schemaBytes) throw new AvroError("BAD_HEADER", "the header has no avro.schema");
  const schemaJson = decodeText(schemaBytes, "avro.schema");
  let json: unknown;
  try {
    json = JSON.parse(schemaJson);
  } catch (cause) {
    throw new AvroError("BAD_HEADER", "avro.schema is not valid JSON", { cause });
  }
  const schema = parseSchema(json, { maxDepth: limits.maxDepth });

  const codecBytes = metadata["avro.codec"];
  // Avro 1.11: "If codec is absent, it is assumed to be null".
  const codec = codecBytes ? decodeText(codecBytes, "avro.codec") : "null";
  if (!CODECS.has(codec)) throw new AvroError("UNKNOWN_CODEC", `codec ${JSON.stringify(codec.slice(0, 40))} is not supported`);
  return { schema, schemaJson, codec: codec as AvroCodec, sync, metadata };
}

async function checkMagic(source: ByteSource): Promise<void> {
  await source.fill(MAGIC.length);
  if (source.available === 0) throw new AvroError("EMPTY_FILE", "the file is empty");
  const head = await source.readExact(Math.min(MAGIC.length, source.available));
  if (!MAGIC.every((byte, i) => i >= head.length || head[i] === byte))
    throw new AvroError("BAD_MAGIC", "not an Avro container file");
  if (head.length < MAGIC.length) throw new AvroError("TRUNCATED", "the file ends inside its magic bytes");
}

async function readMetadata(source: ByteSource, limits: AvroLimits): Promise<Record<string, Uint8Array>> {
  const metadata: Record<string, Uint8Array> = Object.create(null);
  const readLength = async () => {
    const length = await readHeaderLong(source);
    if (length < 0) throw new AvroError("BAD_HEADER", `negative length at ${source.position}`);
    if (source.position + length > limits.maxHeaderBytes) throw overHeader(limits);
    return length;
  };
  for (;;) {
    let count = await readHeaderLong(source);
    if (count === 0) return metadata;
    if (count < 0) {
      count = -count;
      await readHeaderLong(source);
    }
    // Each entry takes at least two bytes (two empty lengths).
    if (source.position + 2 * count > limits.maxHeaderBytes) throw overHeader(limits);
    for (let i = 0; i < count; i++) {
      const key = decodeText(await source.readExact(await readLength()), "a metadata key");
      metadata[key] = (await source.readExact(await readLength())).slice();
    }
  }
}

async function readHeaderLong(source: ByteSource): Promise<number> {
  try {
    return await source.readLong();
  } catch (error) {
    if (error instanceof AvroError && error.code === "CORRUPT_DATA") throw new AvroError("BAD_HEADER", error.message);
    throw error;
  }
}

function decodeText(bytes: Uint8Array, what: string): string {
  try {
    return text.decode(bytes);
  } catch (cause) {
    throw new AvroError("BAD_HEADER", `${what} is not UTF-8`, { cause });
  }
}

function overHeader(limits: AvroLimits): AvroError {
  return new AvroError("LIMIT_EXCEEDED", `header larger than ${limits.maxHeaderBytes} bytes`);
}
