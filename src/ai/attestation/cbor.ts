// A minimal, eval-free CBOR decoder (RFC 8949) for the subset an AWS Nitro attestation document
// uses: unsigned and negative integers, byte and text strings, arrays, maps, tags, simple values.
// Indefinite lengths, floats and integers beyond 2^53 are refused: Nitro documents never use them,
// and a narrow decoder leaves less room for ambiguity in signed data.

export type CborValue =
  | number
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | Map<CborValue, CborValue>
  | CborTagged;

export interface CborTagged {
  readonly tag: number;
  readonly value: CborValue;
}

export class CborError extends Error {
  override readonly name = "CborError";
}

const MAX_DEPTH = 16;

/** Decodes exactly one CBOR data item; trailing bytes are an error. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const reader = new Reader(bytes);
  const value = reader.item(0);
  if (reader.offset !== bytes.length) throw new CborError("trailing bytes after CBOR item");
  return value;
}

class Reader {
  offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  item(depth: number): CborValue {
    if (depth > MAX_DEPTH) throw new CborError("CBOR nesting too deep");
    const initial = this.byte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) return this.simple(info);
    const argument = this.argument(info);
    switch (major) {
      case 0:
        return argument;
      case 1:
        return -1 - argument;
      case 2:
        return this.take(argument).slice();
      case 3:
        return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(this.take(argument));
      case 4: {
        const items: CborValue[] = [];
        for (let i = 0; i < argument; i++) items.push(this.item(depth + 1));
        return items;
      }
      case 5: {
        const map = new Map<CborValue, CborValue>();
        for (let i = 0; i < argument; i++) {
          const key = this.item(depth + 1);
          if (typeof key !== "number" && typeof key !== "string") throw new CborError("unsupported map key");
          if (map.has(key)) throw new CborError("duplicate map key");
          map.set(key, this.item(depth + 1));
        }
        return map;
      }
      default:
        return { tag: argument, value: this.item(depth + 1) };
    }
  }

  private simple(info: number): CborValue {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 23) return undefined;
    throw new CborError("unsupported CBOR simple value or float");
  }

  private argument(info: number): number {
    if (info < 24) return info;
    if (info === 24) return this.byte();
    if (info === 25) return this.view.getUint16(this.advance(2));
    if (info === 26) return this.view.getUint32(this.advance(4));
    if (info === 27) {
      const value = this.view.getBigUint64(this.advance(8));
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new CborError("CBOR integer too large");
      return Number(value);
    }
    throw new CborError("indefinite or reserved CBOR length");
  }

  private byte(): number {
    return this.view.getUint8(this.advance(1));
  }

  private take(length: number): Uint8Array {
    const start = this.advance(length);
    return this.bytes.subarray(start, start + length);
  }

  private advance(length: number): number {
    const start = this.offset;
    if (start + length > this.bytes.length) throw new CborError("truncated CBOR");
    this.offset = start + length;
    return start;
  }
}

function head(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 0x100) return [(major << 5) | 24, length];
  if (length < 0x10000) return [(major << 5) | 25, length >> 8, length & 0xff];
  return [(major << 5) | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}

/** Encodes an array of text and byte strings, all COSE's Sig_structure needs (RFC 9052 §4.4). */
export function encodeStringArray(items: readonly (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(head(4, items.length))];
  for (const item of items) {
    const bytes = typeof item === "string" ? new TextEncoder().encode(item) : item;
    parts.push(new Uint8Array(head(typeof item === "string" ? 3 : 2, bytes.length)), bytes);
  }
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
