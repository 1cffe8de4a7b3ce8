/**
 * Pull-based reading from a `ReadableStream<Uint8Array>`: only as many chunks are pulled as the
 * next read needs, so a container is decoded block by block without buffering the whole file.
 */
import { AvroError } from "./errors";

export class ByteSource {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly chunks: Uint8Array[] = [];
  /** Offset of the next unread byte within `chunks[0]`. */
  private head = 0;
  private buffered = 0;
  private ended = false;
  /** Absolute offset of the next unread byte. */
  position = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** Pulls until `count` bytes are buffered; false when the stream ends first. */
  async fill(count: number): Promise<boolean> {
    while (this.buffered < count && !this.ended) {
      const { done, value } = await this.reader.read();
      if (done) this.ended = true;
      else if (value.length > 0) {
        this.chunks.push(value);
        this.buffered += value.length;
      }
    }
    return this.buffered >= count;
  }

  get available(): number {
    return this.buffered;
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  async readExact(count: number): Promise<Uint8Array> {
    if (!(await this.fill(count))) throw new AvroError("TRUNCATED", `file ends inside a ${count}-byte read at ${this.position}`);
    return this.take(count);
  }

  /** A view when the bytes sit in one chunk, a copy when they span several. */
  private take(count: number): Uint8Array {
    this.position += count;
    this.buffered -= count;
    const first = this.chunks[0];
    if (first && first.length - this.head >= count) {
      const out = first.subarray(this.head, this.head + count);
      this.advance(first, count);
      return out;
    }
    const out = new Uint8Array(count);
    let written = 0;
    while (written < count) {
      const chunk = this.chunks[0];
      if (!chunk) break;
      const part = chunk.subarray(this.head, this.head + (count - written));
      out.set(part, written);
      written += part.length;
      this.advance(chunk, part.length);
    }
    return out;
  }

  private advance(chunk: Uint8Array, count: number): void {
    this.head += count;
    if (this.head === chunk.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** A zig-zag varint (Avro 1.11 "Binary Encoding"), read byte by byte: only used for framing. */
  async readLong(): Promise<number> {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const [byte = 0] = await this.readExact(1);
      n += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (n > Number.MAX_SAFE_INTEGER) break;
        return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
      }
      scale *= 128;
    }
    throw new AvroError("CORRUPT_DATA", `invalid varint at ${this.position}`);
  }

  async cancel(): Promise<void> {
    this.chunks.length = 0;
    this.buffered = 0;
    await this.reader.cancel().catch(() => {});
  }
}
