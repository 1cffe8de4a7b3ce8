/** A growable output buffer with the Avro binary primitives (Avro 1.11 "Binary Encoding"). */
const encoder = new TextEncoder();

export class ByteSink {
  private buffer = new Uint8Array(1024);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  /** Zig-zag varint of any safe integer. */
  writeLong(value: number): void {
    this.reserve(10);
    let n = value >= 0 ? value * 2 : -value * 2 - 1;
    while (n >= 0x80) {
      this.buffer[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buffer[this.length++] = n;
  }

  writeBoolean(value: boolean): void {
    this.reserve(1);
    this.buffer[this.length++] = value ? 1 : 0;
  }

  writeFloat(value: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
  }

  writeDouble(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  writeString(value: string): void {
    this.writeBytes(encoder.encode(value));
  }

  writeBytes(value: Uint8Array): void {
    this.writeLong(value.length);
    this.writeRaw(value);
  }

  writeRaw(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
