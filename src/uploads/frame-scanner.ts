/**
 * Walks the framing of an Avro object container file (Avro 1.11 "Object Container Files") as its
 * bytes stream past, without decoding a datum: magic, header map, sync marker, then per block its
 * object count, byte size and trailing sync marker. The upload route runs every byte through it on
 * the way to R2, so an upload answers with the file's exact record count and with every block's
 * framing checked, at the cost of a few varints per block and no buffering (block data is skipped).
 * Decoding stays with the Avro reader (src/avro), which validates the first block before the 202.
 *
 * `push` stops at two milestones — the end of the header and the end of the first block — so the
 * caller can act on them (pick the R2 key, decode the first block) before any later byte is judged;
 * the answer to a file therefore never depends on how its bytes were split into chunks.
 */
import { AvroError, type AvroLimits } from "../avro";

type Milestone = "header" | "first-block";
type Need =
  | { kind: "long"; endAllowed: boolean }
  | { kind: "skip"; bytes: number }
  | { kind: "fixed"; bytes: number }
  | { kind: "milestone"; name: Milestone };
type Sent = number | Uint8Array | null | undefined;
type Frames<T> = Generator<Need, T, Sent>;

const MAGIC = [0x4f, 0x62, 0x6a, 0x01]; // "Obj" 1
const SYNC_BYTES = 16;
const MAX_VARINT_BYTES = 10;

function* long(endAllowed = false): Frames<number | null> {
  const value = yield { kind: "long", endAllowed };
  return typeof value === "number" ? value : null;
}

function* size(what: string, max: number): Frames<number> {
  const value = yield* long();
  if (value === null || value < 0) throw new AvroError("CORRUPT_DATA", `negative ${what}`);
  if (value > max) throw new AvroError("LIMIT_EXCEEDED", `${what} of ${value} exceeds the limit of ${max}`);
  return value;
}

function* fixed(bytes: number): Frames<Uint8Array> {
  const value = yield { kind: "fixed", bytes };
  return value instanceof Uint8Array ? value : new Uint8Array(0);
}

export class ContainerScanner {
  readonly #limits: AvroLimits;
  readonly #frames: Frames<void>;
  #need: Need | null;
  #offset = 0;
  #varint = { value: 0, bytes: 0 };
  #fixed = { buffer: new Uint8Array(0), filled: 0 };
  #skipped = 0;
  /** Bytes of the header (magic, metadata, sync), known at the `header` milestone. */
  headerBytes: number | null = null;
  /** Offset just past the first block's sync marker, known at the `first-block` milestone. */
  firstBlockEnd: number | null = null;
  /** The milestone `push` stopped at, until the next `push`. */
  milestone: Milestone | null = null;
  records = 0;
  blocks = 0;

  constructor(limits: AvroLimits) {
    this.#limits = limits;
    this.#frames = this.#container();
    this.#need = this.#advance(undefined);
  }

  /** Consumes `chunk` up to its end or the next milestone; returns how many bytes it consumed. */
  push(chunk: Uint8Array): number {
    if (this.milestone !== null) {
      this.milestone = null;
      this.#need = this.#advance(undefined);
    }
    let i = 0;
    while (i < chunk.byteLength && this.#need !== null && this.#need.kind !== "milestone") {
      const need = this.#need;
      if (need.kind === "long") i = this.#readVarint(chunk, i);
      else if (need.kind === "skip") i = this.#skip(chunk, i, need.bytes);
      else i = this.#fill(chunk, i, need.bytes);
      if (this.headerBytes === null && this.#offset > this.#limits.maxHeaderBytes) {
        throw new AvroError("LIMIT_EXCEEDED", `header larger than ${this.#limits.maxHeaderBytes} bytes`);
      }
    }
    if (this.#need?.kind === "milestone") this.milestone = this.#need.name;
    return i;
  }

  /** The input ended. Throws unless it ended exactly between two blocks. */
  finish(): void {
    if (this.milestone !== null) {
      this.milestone = null;
      this.#need = this.#advance(undefined);
    }
    if (this.#offset === 0) throw new AvroError("EMPTY_FILE", "the file has no bytes");
    const seen = this.#fixed.buffer.subarray(0, this.#fixed.filled);
    if (this.#offset < MAGIC.length && seen.some((byte, i) => byte !== MAGIC[i])) {
      throw new AvroError("BAD_MAGIC", "not an Avro object container file");
    }
    const need = this.#need;
    const between = need?.kind === "long" && need.endAllowed && this.#varint.bytes === 0;
    if (!between)
      throw new AvroError("TRUNCATED", `the file ends inside ${this.headerBytes === null ? "its header" : "a block"}`);
    this.#need = this.#advance(null);
  }

  #advance(value: Sent): Need | null {
    let next = this.#frames.next(value);
    // An empty string or block has nothing to skip: move on without waiting for another byte.
    while (!next.done && next.value.kind === "skip" && next.value.bytes === 0) next = this.#frames.next(undefined);
    return next.done ? null : next.value;
  }

  #readVarint(chunk: Uint8Array, from: number): number {
    let i = from;
    while (i < chunk.byteLength) {
      const byte = chunk[i++] ?? 0;
      this.#offset++;
      this.#varint.value += (byte & 0x7f) * 2 ** (7 * this.#varint.bytes);
      this.#varint.bytes++;
      if ((byte & 0x80) === 0) {
        const raw = this.#varint.value;
        this.#varint = { value: 0, bytes: 0 };
        // Zigzag (Avro "Binary Encoding"); beyond 2^53 precision is lost, far past every limit.
        this.#need = this.#advance(raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2);
        return i;
      }
      if (this.#varint.bytes >= MAX_VARINT_BYTES)
        throw new AvroError("CORRUPT_DATA", `varint longer than 10 bytes at offset ${this.#offset}`);
    }
    return i;
  }

  #skip(chunk: Uint8Array, from: number, bytes: number): number {
    const take = Math.min(bytes - this.#skipped, chunk.byteLength - from);
    this.#skipped += take;
    this.#offset += take;
    if (this.#skipped === bytes) {
      this.#skipped = 0;
      this.#need = this.#advance(undefined);
    }
    return from + take;
  }

  #fill(chunk: Uint8Array, from: number, bytes: number): number {
    if (this.#fixed.buffer.byteLength !== bytes) this.#fixed = { buffer: new Uint8Array(bytes), filled: 0 };
    const take = Math.min(bytes - this.#fixed.filled, chunk.byteLength - from);
    this.#fixed.buffer.set(chunk.subarray(from, from + take), this.#fixed.filled);
    this.#fixed.filled += take;
    this.#offset += take;
    if (this.#fixed.filled === bytes) {
      const value = this.#fixed.buffer;
      this.#fixed = { buffer: new Uint8Array(0), filled: 0 };
      this.#need = this.#advance(value);
    }
    return from + take;
  }

  *#container(): Frames<void> {
    const magic = yield* fixed(MAGIC.length);
    if (MAGIC.some((byte, i) => magic[i] !== byte)) throw new AvroError("BAD_MAGIC", "not an Avro object container file");
    for (;;) {
      let count = yield* long();
      if (count === null) throw new AvroError("TRUNCATED", "the file ends inside its header");
      if (count === 0) break;
      if (count < 0) {
        count = -count;
        yield* long(); // the block's byte size, redundant for a scan
      }
      for (let entry = 0; entry < count; entry++) {
        yield { kind: "skip", bytes: yield* size("header key length", this.#limits.maxHeaderBytes) };
        yield { kind: "skip", bytes: yield* size("header value length", this.#limits.maxHeaderBytes) };
      }
    }
    const sync = yield* fixed(SYNC_BYTES);
    this.headerBytes = this.#offset;
    yield { kind: "milestone", name: "header" };

    for (;;) {
      const count = yield* long(true);
      if (count === null) return;
      if (count < 0) throw new AvroError("CORRUPT_DATA", `negative object count in block ${this.blocks}`);
      if (count > this.#limits.maxBlockItems) {
        throw new AvroError(
          "LIMIT_EXCEEDED",
          `block ${this.blocks} declares ${count} objects; the limit is ${this.#limits.maxBlockItems}`,
        );
      }
      yield { kind: "skip", bytes: yield* size(`block ${this.blocks} byte size`, this.#limits.maxBlockBytes) };
      const marker = yield* fixed(SYNC_BYTES);
      if (marker.some((byte, i) => byte !== sync[i]))
        throw new AvroError("BAD_SYNC", `block ${this.blocks} is not followed by the sync marker`);
      this.records += count;
      this.blocks++;
      if (this.blocks === 1) {
        this.firstBlockEnd = this.#offset;
        yield { kind: "milestone", name: "first-block" };
      }
    }
  }
}
