// A minimal CBOR codec (RFC 8949) for the subset an attestation document uses: unsigned and
// negative integers, byte and text strings, arrays, maps with integer or text keys, and null.
// Definite lengths only and shortest-form heads (RFC 8949 §4.2.1), so the signed bytes are
// exactly what a verifier re-encodes.

export type CborValue = number | string | null | Uint8Array | readonly CborValue[] | CborMap;
export type CborMap = ReadonlyMap<number | string, CborValue>;

const MAJOR_UNSIGNED = 0;
const MAJOR_NEGATIVE = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const NULL_BYTE = 0xf6;

export function encodeCbor(value: CborValue): Uint8Array {
  const chunks: Uint8Array[] = [];
  write(value, chunks);
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function write(value: CborValue, chunks: Uint8Array[]): void {
  if (value === null) {
    chunks.push(Uint8Array.of(NULL_BYTE));
  } else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new RangeError("CBOR encoder accepts safe integers only");
    chunks.push(value >= 0 ? head(MAJOR_UNSIGNED, value) : head(MAJOR_NEGATIVE, -1 - value));
  } else if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    chunks.push(head(MAJOR_TEXT, bytes.length), bytes);
  } else if (value instanceof Uint8Array) {
    chunks.push(head(MAJOR_BYTES, value.length), value);
  } else if (isMap(value)) {
    chunks.push(head(MAJOR_MAP, value.size));
    for (const [key, item] of value) {
      write(key, chunks);
      write(item, chunks);
    }
  } else {
    chunks.push(head(MAJOR_ARRAY, value.length));
    for (const item of value) write(item, chunks);
  }
}

function isMap(value: readonly CborValue[] | CborMap): value is CborMap {
  return value instanceof Map;
}

function head(major: number, argument: number): Uint8Array {
  const type = major << 5;
  if (argument < 24) return Uint8Array.of(type | argument);
  if (argument < 0x100) return Uint8Array.of(type | 24, argument);
  if (argument < 0x10000) return Uint8Array.of(type | 25, argument >> 8, argument & 0xff);
  const wide = argument >= 0x1_0000_0000;
  const out = new Uint8Array(wide ? 9 : 5);
  const view = new DataView(out.buffer);
  out[0] = type | (wide ? 27 : 26);
  if (wide) view.setBigUint64(1, BigInt(argument));
  else view.setUint32(1, argument);
  return out;
}

/** Decodes exactly one item of the same subset; used to read NSM responses and in tests. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const reader = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  const value = read(reader, 0);
  if (reader.offset !== bytes.length) throw new Error("trailing bytes after CBOR item");
  return value;
}

interface Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  offset: number;
}

const MAX_DEPTH = 16;

function read(reader: Reader, depth: number): CborValue {
  if (depth > MAX_DEPTH) throw new Error("CBOR nesting too deep");
  const initial = readUint(reader, 1);
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (initial === NULL_BYTE) return null;
  const argument = readArgument(reader, info);
  switch (major) {
    case MAJOR_UNSIGNED:
      return argument;
    case MAJOR_NEGATIVE:
      return -1 - argument;
    case MAJOR_BYTES:
      return take(reader, argument).slice();
    case MAJOR_TEXT:
      return new TextDecoder("utf-8", { fatal: true }).decode(take(reader, argument));
    case MAJOR_ARRAY:
      return Array.from({ length: argument }, () => read(reader, depth + 1));
    case MAJOR_MAP: {
      const map = new Map<number | string, CborValue>();
      for (let index = 0; index < argument; index++) {
        const key = read(reader, depth + 1);
        if (typeof key !== "number" && typeof key !== "string") throw new Error("CBOR map key must be an integer or text");
        if (map.has(key)) throw new Error("duplicate CBOR map key");
        map.set(key, read(reader, depth + 1));
      }
      return map;
    }
    default:
      throw new Error(`unsupported CBOR major type ${major}`);
  }
}

function readArgument(reader: Reader, info: number): number {
  if (info < 24) return info;
  if (info === 24) return readUint(reader, 1);
  if (info === 25) return readUint(reader, 2);
  if (info === 26) return readUint(reader, 4);
  if (info === 27) return readUint(reader, 8);
  throw new Error("indefinite or reserved CBOR length");
}

function readUint(reader: Reader, size: 1 | 2 | 4 | 8): number {
  if (reader.offset + size > reader.bytes.length) throw new Error("truncated CBOR");
  const at = reader.offset;
  reader.offset += size;
  if (size === 1) return reader.view.getUint8(at);
  if (size === 2) return reader.view.getUint16(at);
  if (size === 4) return reader.view.getUint32(at);
  const value = reader.view.getBigUint64(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("CBOR integer beyond 2^53");
  return Number(value);
}

function take(reader: Reader, length: number): Uint8Array {
  if (reader.offset + length > reader.bytes.length) throw new Error("truncated CBOR");
  const out = reader.bytes.subarray(reader.offset, reader.offset + length);
  reader.offset += length;
  return out;
}
