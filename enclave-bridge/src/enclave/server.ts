/**
 * The enclave's listener: frames in, frames out, one answer per request frame, in order. In a
 * Nitro Enclave it listens on loopback TCP behind `socat VSOCK-LISTEN` (docs/enclave-deployment.md);
 * locally the parent proxy connects to it directly over TCP.
 */
import { createServer, type Server, type Socket } from "node:net";
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from "../framing.ts";
import type { EnclaveApp } from "./app.ts";

export interface EnclaveServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxFrameBytes?: number;
  /** A connection idle this long is closed, so a stalled peer cannot hold a socket forever. */
  readonly idleTimeoutMs?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export async function serveEnclave(app: EnclaveApp, options: EnclaveServerOptions): Promise<Server> {
  const server = createServer((socket) => handleConnection(app, socket, options));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

function handleConnection(app: EnclaveApp, socket: Socket, options: EnclaveServerOptions): void {
  const reader = new FrameReader(options.maxFrameBytes ?? MAX_FRAME_BYTES);
  // Answers go out in request order even though each is computed asynchronously.
  let queue: Promise<void> = Promise.resolve();
  socket.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    let frames: Uint8Array[];
    try {
      frames = reader.push(chunk);
    } catch {
      // An oversized declared length: the stream cannot be resynchronised, so it is closed.
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      const reply = app.handle(frame);
      queue = queue.then(async () => {
        const message = await reply;
        frame.fill(0);
        if (!socket.destroyed) socket.write(encodeFrame(message));
      });
    }
  });
}
