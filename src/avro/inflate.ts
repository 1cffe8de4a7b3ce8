/**
 * Raw deflate (RFC 1951), as the Avro deflate codec specifies, inflated in TypeScript with a hard
 * bound on the output.
 *
 * Why not `DecompressionStream("deflate-raw")`: workerd's implementation inflates each written
 * chunk completely into its own buffer without backpressure (workerd `api/streams/compression.c++`,
 * "This does not yet implement any backpressure"), so a few MB of deflate bomb cost gigabytes
 * before JavaScript sees a byte. Here the output buffer never grows past the bound: the block that
 * would cross it fails with LIMIT_EXCEEDED first. Synchronous, table-driven Huffman decoding.
 */
import { AvroError } from "./errors";

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289,
  16385, 24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** RFC 1951 §3.2.7: the order in which code length code lengths are sent. */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const MAX_BITS = 15;

/**
 * A decoding table indexed by the next `bits` input bits (LSB first); each entry is
 * `symbol << 4 | code length`, 0 where no code exists. Scratch tables are shared: inflation is
 * synchronous, so two inflations never interleave.
 */
interface Table {
  readonly entries: Uint16Array;
  bits: number;
}

const scratch = {
  literals: { entries: new Uint16Array(1 << MAX_BITS), bits: 0 },
  distances: { entries: new Uint16Array(1 << MAX_BITS), bits: 0 },
  lengths: { entries: new Uint16Array(1 << 7), bits: 0 },
};
let fixed: { literals: Table; distances: Table } | undefined;

function corrupt(detail: string): AvroError {
  return new AvroError("CORRUPT_DATA", `block is not valid deflate data: ${detail}`);
}

/** Canonical Huffman codes from code lengths (RFC 1951 §3.2.2) into a lookup table. */
function build(lengths: Uint8Array, table: Table): Table {
  const counts = new Uint16Array(MAX_BITS + 1);
  for (const length of lengths) counts[length] = (counts[length] ?? 0) + 1;
  counts[0] = 0;
  let left = 1;
  let bits = 0;
  const next = new Uint16Array(MAX_BITS + 1);
  for (let length = 1, code = 0; length <= MAX_BITS; length++) {
    const count = counts[length] ?? 0;
    left = left * 2 - count;
    if (left < 0) throw corrupt("over-subscribed code");
    if (count > 0) bits = length;
    code = (code + (counts[length - 1] ?? 0)) << 1;
    next[length] = code;
  }
  const size = 1 << bits;
  table.entries.fill(0, 0, Math.max(size, 1));
  table.bits = bits;
  lengths.forEach((length, symbol) => {
    if (length === 0) return;
    let code = next[length] ?? 0;
    next[length] = code + 1;
    let reversed = 0;
    for (let i = 0; i < length; i++) {
      reversed = (reversed << 1) | (code & 1);
      code >>>= 1;
    }
    for (let i = reversed; i < size; i += 1 << length) table.entries[i] = (symbol << 4) | length;
  });
  return table;
}

function fixedTables(): { literals: Table; distances: Table } {
  if (!fixed) {
    const literals = new Uint8Array(288).fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    fixed = {
      literals: build(literals, { entries: new Uint16Array(1 << 9), bits: 0 }),
      distances: build(new Uint8Array(32).fill(5), { entries: new Uint16Array(1 << 5), bits: 0 }),
    };
  }
  return fixed;
}

class Inflater {
  private pos = 0;
  private bitBuf = 0;
  private bitCount = 0;
  private out: Uint8Array;
  private length = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly bound: number,
    private readonly describeBound: string,
  ) {
    this.out = new Uint8Array(Math.min(bound, Math.max(1024, data.length * 4)));
  }

  run(): Uint8Array {
    let final = 0;
    do {
      final = this.bits(1);
      const type = this.bits(2);
      if (type === 0) this.stored();
      else if (type === 1) this.codes(fixedTables().literals, fixedTables().distances);
      else if (type === 2) this.dynamic();
      else throw corrupt("reserved block type");
    } while (!final);
    const usedBytes = Math.ceil((this.pos * 8 - this.bitCount) / 8);
    if (usedBytes > this.data.length) throw corrupt("data ends inside the stream");
    if (usedBytes < this.data.length) throw corrupt("bytes after the final block");
    return this.out.subarray(0, this.length);
  }

  private bits(count: number): number {
    while (this.bitCount < count) this.load();
    const value = this.bitBuf & ((1 << count) - 1);
    this.bitBuf >>>= count;
    this.bitCount -= count;
    return value;
  }

  /** One more input byte; past the end reads zeros, and running far past it is an error. */
  private load(): void {
    if (this.pos > this.data.length + 4) throw corrupt("data ends inside the stream");
    this.bitBuf |= (this.data[this.pos++] ?? 0) << this.bitCount;
    this.bitCount += 8;
  }

  private decode(table: Table): number {
    while (this.bitCount < table.bits) this.load();
    const entry = table.entries[this.bitBuf & ((1 << table.bits) - 1)] ?? 0;
    const length = entry & 15;
    if (length === 0) throw corrupt("invalid code");
    this.bitBuf >>>= length;
    this.bitCount -= length;
    return entry >>> 4;
  }

  /** Makes room for `count` more output bytes, within the bound. */
  private reserve(count: number): Uint8Array {
    const needed = this.length + count;
    if (needed <= this.out.length) return this.out;
    if (needed > this.bound) throw new AvroError("LIMIT_EXCEEDED", `block inflates past ${this.describeBound}`);
    const grown = new Uint8Array(Math.min(this.bound, Math.max(needed, this.out.length * 2)));
    grown.set(this.out.subarray(0, this.length));
    this.out = grown;
    return grown;
  }

  private stored(): void {
    // Back to the byte boundary, returning whole bytes already loaded into the bit buffer.
    this.pos -= this.bitCount >>> 3;
    this.bitBuf = 0;
    this.bitCount = 0;
    const data = this.data;
    const start = this.pos + 4;
    if (start > data.length) throw corrupt("data ends inside a stored block");
    const size = (data[this.pos] ?? 0) | ((data[this.pos + 1] ?? 0) << 8);
    const check = (data[this.pos + 2] ?? 0) | ((data[this.pos + 3] ?? 0) << 8);
    if (size !== (~check & 0xffff)) throw corrupt("stored block length check");
    if (start + size > data.length) throw corrupt("data ends inside a stored block");
    this.reserve(size).set(data.subarray(start, start + size), this.length);
    this.length += size;
    this.pos = start + size;
  }

  private dynamic(): void {
    const literalCount = this.bits(5) + 257;
    const distanceCount = this.bits(5) + 1;
    const codeLengthCount = this.bits(4) + 4;
    if (literalCount > 286 || distanceCount > 30) throw corrupt("too many codes");
    const codeLengths = new Uint8Array(19);
    for (let i = 0; i < codeLengthCount; i++) codeLengths[CODE_LENGTH_ORDER[i] ?? 0] = this.bits(3);
    const lengthTable = build(codeLengths, scratch.lengths);
    const lengths = new Uint8Array(literalCount + distanceCount);
    for (let i = 0; i < lengths.length; ) {
      const symbol = this.decode(lengthTable);
      if (symbol < 16) {
        lengths[i++] = symbol;
        continue;
      }
      let value = 0;
      let repeat: number;
      if (symbol === 16) {
        if (i === 0) throw corrupt("repeat with no previous length");
        value = lengths[i - 1] ?? 0;
        repeat = 3 + this.bits(2);
      } else repeat = symbol === 17 ? 3 + this.bits(3) : 11 + this.bits(7);
      if (i + repeat > lengths.length) throw corrupt("code lengths overflow");
      lengths.fill(value, i, i + repeat);
      i += repeat;
    }
    if (lengths[256] === 0) throw corrupt("no end-of-block code");
    this.codes(
      build(lengths.subarray(0, literalCount), scratch.literals),
      build(lengths.subarray(literalCount), scratch.distances),
    );
  }

  /**
   * The hot loop: literals and back-references until the end-of-block code. The bit reader's
   * state lives in locals here (written back on return) because property access per bit costs
   * about a third of the inflation time.
   */
  private codes(literals: Table, distances: Table): void {
    const data = this.data;
    const overrun = data.length + 4;
    const literalEntries = literals.entries;
    const literalBits = literals.bits;
    const literalMask = (1 << literalBits) - 1;
    const distanceEntries = distances.entries;
    const distanceBits = distances.bits;
    const distanceMask = (1 << distanceBits) - 1;
    let { pos, bitBuf, bitCount, length, out } = this;
    for (;;) {
      while (bitCount < literalBits) {
        if (pos > overrun) throw corrupt("data ends inside the stream");
        bitBuf |= (data[pos++] ?? 0) << bitCount;
        bitCount += 8;
      }
      const entry = literalEntries[bitBuf & literalMask] ?? 0;
      const codeLength = entry & 15;
      if (codeLength === 0) throw corrupt("invalid code");
      bitBuf >>>= codeLength;
      bitCount -= codeLength;
      const symbol = entry >>> 4;
      if (symbol < 256) {
        if (length === out.length) {
          this.length = length;
          out = this.reserve(1);
        }
        out[length++] = symbol;
        continue;
      }
      if (symbol === 256) break;
      const lengthIndex = symbol - 257;
      if (lengthIndex >= 29) throw corrupt("invalid length code");
      // At most 5 extra length bits, a 15-bit distance code and 13 extra distance bits follow.
      while (bitCount < 5 + distanceBits) {
        if (pos > overrun) throw corrupt("data ends inside the stream");
        bitBuf |= (data[pos++] ?? 0) << bitCount;
        bitCount += 8;
      }
      const lengthExtra = LENGTH_EXTRA[lengthIndex] ?? 0;
      const size = (LENGTH_BASE[lengthIndex] ?? 0) + (bitBuf & ((1 << lengthExtra) - 1));
      bitBuf >>>= lengthExtra;
      bitCount -= lengthExtra;
      const distanceEntry = distanceEntries[bitBuf & distanceMask] ?? 0;
      const distanceLength = distanceEntry & 15;
      if (distanceLength === 0) throw corrupt("invalid code");
      bitBuf >>>= distanceLength;
      bitCount -= distanceLength;
      const distanceIndex = distanceEntry >>> 4;
      if (distanceIndex >= 30) throw corrupt("invalid distance code");
      const distanceExtra = DIST_EXTRA[distanceIndex] ?? 0;
      while (bitCount < distanceExtra) {
        if (pos > overrun) throw corrupt("data ends inside the stream");
        bitBuf |= (data[pos++] ?? 0) << bitCount;
        bitCount += 8;
      }
      const distance = (DIST_BASE[distanceIndex] ?? 0) + (bitBuf & ((1 << distanceExtra) - 1));
      bitBuf >>>= distanceExtra;
      bitCount -= distanceExtra;
      if (distance > length) throw corrupt("distance before the start of the output");
      if (length + size > out.length) {
        this.length = length;
        out = this.reserve(size);
      }
      const from = length - distance;
      if (distance >= size && size > 16) out.copyWithin(length, from, from + size);
      else for (let i = 0; i < size; i++) out[length + i] = out[from + i] ?? 0;
      length += size;
    }
    this.pos = pos;
    this.bitBuf = bitBuf;
    this.bitCount = bitCount;
    this.length = length;
    this.out = out;
  }
}

/** Inflates `data`; LIMIT_EXCEEDED as soon as the output would pass `bound` bytes, CORRUPT_DATA for invalid data. */
export function inflateRaw(data: Uint8Array, bound: number, describeBound: string): Uint8Array {
  return new Inflater(data, bound, describeBound).run();
}

/** The same bytes typed as ArrayBuffer-backed, as stream writers and Blob require (copied only if shared). */
export function arrayBufferView(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new Uint8Array(bytes);
}
