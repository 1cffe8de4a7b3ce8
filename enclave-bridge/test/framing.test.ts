import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeFrame, FrameError, FrameReader } from "../src/index.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe("framing", () => {
  it("round-trips frames split across arbitrary chunk boundaries", () => {
    const stream = new Uint8Array([
      ...encodeFrame(bytes("sealed-1")),
      ...encodeFrame(bytes("")),
      ...encodeFrame(bytes("sealed-two")),
    ]);
    for (const chunkSize of [1, 3, 7, stream.byteLength]) {
      const reader = new FrameReader();
      const frames: string[] = [];
      for (let i = 0; i < stream.byteLength; i += chunkSize)
        frames.push(...reader.push(stream.slice(i, i + chunkSize)).map(text));
      assert.deepEqual(frames, ["sealed-1", "", "sealed-two"]);
      assert.equal(reader.pendingBytes, 0);
    }
  });

  it("keeps an incomplete frame pending", () => {
    const reader = new FrameReader();
    const frame = encodeFrame(bytes("partial"));
    assert.deepEqual(reader.push(frame.slice(0, 6)), []);
    assert.equal(reader.pendingBytes, 6);
  });

  it("refuses a declared length over the limit before buffering it", () => {
    const reader = new FrameReader(1024);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 2 ** 31);
    assert.throws(() => reader.push(header), FrameError);
    assert.throws(() => encodeFrame(new Uint8Array(2048 + 16 * 1024 * 1024)), FrameError);
  });
});
