export { encodeFrame, FrameError, FrameReader, MAX_FRAME_BYTES } from "./framing.ts";
export * from "./nsm/index.ts";
