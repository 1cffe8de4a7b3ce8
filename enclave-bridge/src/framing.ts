/**
 * Length-prefixed frames for the byte stream between the Worker-facing parent proxy and the
 * enclave (vsock in production, TCP locally). The proxy never parses what is inside a frame: it
 * only needs to know where one ends, so it can forward opaque ciphertext without buffering the
 * stream. A frame is a 4-byte big-endian length followed by that many bytes.
 */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export class FrameError extends Error {
  override name = "FrameError";
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.byteLength > MAX_FRAME_BYTES)
    throw new FrameError(`frame of ${payload.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`);
  const frame = new Uint8Array(4 + payload.byteLength);
  new DataView(frame.buffer).setUint32(0, payload.byteLength);
  frame.set(payload, 4);
  return frame;
}

/**
 * Accumulates stream chunks and yields complete frames. A declared length over the maximum is
 * refused before any of its bytes are buffered, so a hostile peer cannot make either side
 * allocate unbounded memory.
 */
export class FrameReader {
  #buffer = new Uint8Array(0);
  readonly #maxFrameBytes: number;

  constructor(maxFrameBytes = MAX_FRAME_BYTES) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buffer.byteLength + chunk.byteLength);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.byteLength);
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (joined.byteLength - offset >= 4) {
      const length = new DataView(joined.buffer, offset, 4).getUint32(0);
      if (length > this.#maxFrameBytes) throw new FrameError(`declared frame of ${length} bytes exceeds ${this.#maxFrameBytes}`);
      if (joined.byteLength - offset - 4 < length) break;
      frames.push(joined.slice(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    this.#buffer = joined.slice(offset);
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pendingBytes(): number {
    return this.#buffer.byteLength;
  }
}
