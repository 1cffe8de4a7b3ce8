/**
 * The parent-instance proxy (DESIGN §9): the Worker's HTTPS endpoint in front of the enclave. It
 * forwards each request body to the enclave as one frame and answers with the one frame that comes
 * back. It never parses either: it sees attestation requests and documents, HPKE ciphertexts and
 * error codes, nothing it could read. It authenticates the Worker with a bearer token so strangers
 * cannot spend the enclave's model time.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from "../framing.ts";
import { type ConnectOptions, connectEnclave, type EnclaveEndpoint } from "./endpoint.ts";

export interface ProxyOptions extends ConnectOptions {
  readonly enclave: EnclaveEndpoint;
  /** The bearer token the Worker sends; requests without it are refused. */
  readonly token: string;
  readonly maxBodyBytes?: number;
  /** How long one exchange with the enclave may take, model time included. */
  readonly timeoutMs?: number;
  readonly log?: (line: ProxyLogLine) => void;
}

export interface ProxyLogLine {
  readonly event: "proxy.request";
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly ms: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

const DEFAULT_MAX_BODY_BYTES = MAX_FRAME_BYTES;
const DEFAULT_TIMEOUT_MS = 120_000;

class ProxyFailure extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function createProxy(options: ProxyOptions): Server {
  if (options.token.length < 16) throw new Error("the proxy token must be at least 16 characters");
  const expected = Buffer.from(`Bearer ${options.token}`);
  const log = options.log ?? (() => {});
  return createServer((request, response) => {
    const started = performance.now();
    let bytesIn = 0;
    let bytesOut = 0;
    const finish = (status: number, body: Uint8Array, type: string) => {
      bytesOut = body.byteLength;
      response.writeHead(status, { "content-type": type, "content-length": body.byteLength, "cache-control": "no-store" });
      response.end(body);
      const path = (request.url ?? "/").split("?")[0] ?? "/";
      log({
        event: "proxy.request",
        method: request.method ?? "",
        path,
        status,
        ms: Math.round(performance.now() - started),
        bytesIn,
        bytesOut,
      });
    };
    const fail = (status: number, error: string) => finish(status, Buffer.from(JSON.stringify({ error })), "application/json");

    const path = (request.url ?? "/").split("?")[0];
    if (path === "/health" && request.method === "GET") return finish(200, Buffer.from('{"status":"ok"}'), "application/json");
    if (path !== "/v1/enclave") return fail(404, "not found");
    if (request.method !== "POST") return fail(405, "method not allowed");
    if (!authorized(request, expected)) return fail(401, "unauthorized");

    readBody(request, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES)
      .then((body) => {
        bytesIn = body.byteLength;
        if (body.byteLength === 0) throw new ProxyFailure(400, "empty body");
        return exchange(options, body);
      })
      .then((reply) => finish(200, reply, "application/octet-stream"))
      .catch((error: unknown) => {
        if (error instanceof ProxyFailure) fail(error.status, error.message);
        else fail(502, "enclave unreachable");
      });
  });
}

function authorized(request: IncomingMessage, expected: Buffer): boolean {
  const given = Buffer.from(request.headers.authorization ?? "");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function readBody(request: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > maxBytes) {
      request.resume();
      reject(new ProxyFailure(413, "body too large"));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    request.on("data", (chunk: Buffer) => {
      length += chunk.byteLength;
      if (length > maxBytes) {
        request.destroy();
        reject(new ProxyFailure(413, "body too large"));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** Sends one frame to the enclave and waits for the one frame it answers with. */
function exchange(options: ProxyOptions, body: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const stream = connectEnclave(options.enclave, options);
    const reader = new FrameReader();
    const timer = setTimeout(() => done(new ProxyFailure(504, "enclave timed out")), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let settled = false;
    function done(result: Error | Uint8Array): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    stream.on("data", (chunk: Buffer) => {
      try {
        const [frame] = reader.push(chunk);
        if (frame !== undefined) done(frame);
      } catch {
        done(new ProxyFailure(502, "enclave sent an oversized frame"));
      }
    });
    stream.on("error", () => done(new ProxyFailure(502, "enclave unreachable")));
    stream.on("end", () => done(new ProxyFailure(502, "enclave closed the connection")));
    stream.write(encodeFrame(body));
  });
}
