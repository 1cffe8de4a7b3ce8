/**
 * A read position over one buffer of Avro binary data (Avro 1.11 "Binary Encoding").
 *
 * Reads past the end do not throw on the spot: a missing byte reads as 0 (which also ends a
 * varint), and every read checks `pos > bytes.length` once afterwards. That keeps the hot path
 * free of per-byte branches while never returning a value built from bytes that are not there.
 */
import { AvroError } from "./errors";
import type { AvroLimits } from "./limits";
import { DEFAULT_AVRO_LIMITS } from "./limits";

// Strings shorter than this are decoded by hand: a TextDecoder call costs more than the loop.
const SHORT_STRING = 24;
const decoder = new TextDecoder();

export class AvroCursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly limits: AvroLimits;
  pos: number;
  /** Current nesting through recursive named types, bounded by `limits.maxDepth`. */
  depth = 0;

  constructor(bytes: Uint8Array, limits: AvroLimits = DEFAULT_AVRO_LIMITS, pos = 0) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.limits = limits;
    this.pos = pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** A zig-zag varint as a JS number; AvroError CORRUPT_DATA when it is not a safe integer. */
  readLong(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    let byte = bytes[pos++] ?? 0;
    let n = byte & 0x7f;
    if (byte >= 0x80) {
      byte = bytes[pos++] ?? 0;
      n |= (byte & 0x7f) << 7;
      if (byte >= 0x80) {
        byte = bytes[pos++] ?? 0;
        n |= (byte & 0x7f) << 14;
        if (byte >= 0x80) {
          byte = bytes[pos++] ?? 0;
          n |= (byte & 0x7f) << 21;
          if (byte >= 0x80) {
            this.pos = pos;
            return this.readLongTail(n);
          }
        }
      }
    }
    this.pos = pos;
    if (pos > bytes.length) throw truncated();
    return (n >>> 1) ^ -(n & 1);
  }

  /** Bytes 5 to 10 of a varint, whose low 28 bits are `low`. */
  private readLongTail(low: number): number {
    const bytes = this.bytes;
    let pos = this.pos;
    let high = 0;
    let scale = 1;
    let byte = 0x80;
    for (let i = 0; byte >= 0x80; i++) {
      if (i === 6) throw new AvroError("CORRUPT_DATA", `varint longer than 10 bytes at ${pos}`);
      byte = bytes[pos++] ?? 0;
      high += (byte & 0x7f) * scale;
      scale *= 128;
    }
    this.pos = pos;
    if (pos > bytes.length) throw truncated();
    // n = high * 2^28 + low; the value is n / 2 (even n) or -(n + 1) / 2 (odd n).
    const half = high * 2 ** 27 + (low >>> 1);
    if (high >= 2 ** 26 || half > (low & 1 ? 2 ** 53 - 2 : 2 ** 53 - 1)) {
      throw new AvroError("CORRUPT_DATA", `long at ${pos} is outside ±(2^53 - 1)`);
    }
    return low & 1 ? -half - 1 : half;
  }

  readInt(): number {
    const value = this.readLong();
    if (value > 0x7fffffff || value < -0x80000000) throw new AvroError("CORRUPT_DATA", `int at ${this.pos} out of range`);
    return value;
  }

  readBoolean(): boolean {
    const byte = this.bytes[this.pos++];
    if (byte === undefined) throw truncated();
    if (byte > 1) throw new AvroError("CORRUPT_DATA", `boolean byte ${byte} at ${this.pos - 1}`);
    return byte === 1;
  }

  readFloat(): number {
    const pos = this.pos;
    if (pos + 4 > this.bytes.length) throw truncated();
    this.pos = pos + 4;
    return this.view.getFloat32(pos, true);
  }

  readDouble(): number {
    const pos = this.pos;
    if (pos + 8 > this.bytes.length) throw truncated();
    this.pos = pos + 8;
    return this.view.getFloat64(pos, true);
  }

  /** Validates a declared length of string/bytes/fixed data before anything is allocated for it. */
  checkLength(length: number): void {
    if (length < 0) throw new AvroError("CORRUPT_DATA", `negative length at ${this.pos}`);
    if (length > this.limits.maxStringBytes) {
      throw new AvroError("LIMIT_EXCEEDED", `length ${length} over ${this.limits.maxStringBytes} bytes at ${this.pos}`);
    }
    if (length > this.bytes.length - this.pos) throw truncated();
  }

  readString(): string {
    const length = this.readLong();
    if (length < SHORT_STRING && length >= 0 && this.pos + length <= this.bytes.length) {
      const bytes = this.bytes;
      const start = this.pos;
      const end = start + length;
      let text = "";
      let i = start;
      for (; i < end; i++) {
        const byte = bytes[i] ?? 0;
        if (byte >= 0x80) break;
        text += String.fromCharCode(byte);
      }
      if (i === end) {
        this.pos = end;
        return text;
      }
    }
    this.checkLength(length);
    const start = this.pos;
    this.pos = start + length;
    return decoder.decode(this.bytes.subarray(start, start + length));
  }

  /** A copy, so that a decoded value never pins the (possibly large) block buffer. */
  readBytes(): Uint8Array {
    return this.readFixed(this.readLong());
  }

  readFixed(size: number): Uint8Array {
    this.checkLength(size);
    const start = this.pos;
    this.pos = start + size;
    // Not `slice`: on a Node Buffer that would be a view, not a copy.
    return new Uint8Array(this.bytes.subarray(start, start + size));
  }

  skip(length: number): void {
    if (length < 0) throw new AvroError("CORRUPT_DATA", `negative length at ${this.pos}`);
    if (length > this.bytes.length - this.pos) throw truncated();
    this.pos += length;
  }

  skipString(): void {
    this.skip(this.readLong());
  }
}

export function truncated(): AvroError {
  return new AvroError("TRUNCATED", "data ends inside a value");
}
