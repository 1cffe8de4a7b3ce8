/**
 * One HTTPS request whose TLS server key is checked before a byte of the request is written. The
 * connection is opened first and the HTTP request is only handed to it after `secureConnect`, which
 * Node emits only once `checkServerIdentity` has passed, so a server with any other key never
 * receives the request, not even encrypted. Each request has its own connection and no session
 * resumption (a resumed session skips the certificate check), so every request sees a fresh
 * handshake and a fresh check.
 */
import { createHash, X509Certificate } from "node:crypto";
import { request as httpRequest } from "node:http";
import { isIP } from "node:net";
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from "node:tls";

/** The server presented a TLS key other than the one required; nothing was sent. */
export class TlsKeyMismatch extends Error {
  override name = "TlsKeyMismatch";
  /** SHA-256 of the key the server presented. */
  readonly spkiSha256: string;

  constructor(spkiSha256: string) {
    super("the server's TLS key is not the attested one");
    this.spkiSha256 = spkiSha256;
  }
}

/** The response was larger than the caller allows. */
export class ResponseTooLarge extends Error {
  override name = "ResponseTooLarge";
}

export interface PinnedRequest {
  readonly url: URL;
  readonly method: "GET" | "POST";
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * Whether the server's key (SHA-256 of its DER SubjectPublicKeyInfo, hex) may be used. Absent:
   * any key that passes the CA and host name checks.
   */
  readonly acceptKey?: (spkiSha256: string) => boolean;
  /** PEM CA certificates for the server's TLS certificate instead of Node's bundled ones. */
  readonly ca?: string;
  readonly signal: AbortSignal;
  readonly maxBytes: number;
}

export interface PinnedResponse {
  readonly status: number;
  readonly body: string;
  /** SHA-256 (hex) of the SubjectPublicKeyInfo of the key this response came over. */
  readonly spkiSha256: string;
}

/** SHA-256 (hex) of a certificate's DER SubjectPublicKeyInfo, as an attestation report names it. */
export function spkiSha256Of(certificateDer: Uint8Array): string {
  const spki = new X509Certificate(certificateDer).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

export async function pinnedHttpsRequest(request: PinnedRequest): Promise<PinnedResponse> {
  if (request.url.protocol !== "https:") throw new TypeError("only https URLs");
  request.signal.throwIfAborted();
  const { socket, spkiSha256 } = await open(request);
  const onAbort = () => socket.destroy(request.signal.reason as Error);
  request.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const { status, body } = await exchange(socket, request);
    return { status, body, spkiSha256 };
  } finally {
    request.signal.removeEventListener("abort", onAbort);
    socket.destroy();
  }
}

function open(request: PinnedRequest): Promise<{ socket: TLSSocket; spkiSha256: string }> {
  const host = request.url.hostname.replace(/^\[(.*)\]$/, "$1");
  let seen = "";
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port: Number(request.url.port || 443),
      // SNI takes host names only (RFC 6066 §3).
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(request.ca === undefined ? {} : { ca: request.ca }),
      ALPNProtocols: ["http/1.1"],
      rejectUnauthorized: true,
      checkServerIdentity: (hostname: string, certificate: PeerCertificate) => {
        const wrongName = checkServerIdentity(hostname, certificate);
        if (wrongName !== undefined) return wrongName;
        seen = spkiSha256Of(certificate.raw);
        return request.acceptKey === undefined || request.acceptKey(seen) ? undefined : new TlsKeyMismatch(seen);
      },
    });
    const onAbort = () => socket.destroy(request.signal.reason as Error);
    request.signal.addEventListener("abort", onAbort, { once: true });
    socket.once("secureConnect", () => {
      request.signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", reject);
      resolve({ socket, spkiSha256: seen });
    });
    socket.once("error", (error) => {
      request.signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}

function exchange(socket: TLSSocket, request: PinnedRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...request.headers, host: request.url.host, connection: "close" };
    if (request.body !== undefined) headers["content-length"] = String(Buffer.byteLength(request.body));
    const outgoing = httpRequest(
      {
        method: request.method,
        path: `${request.url.pathname}${request.url.search}`,
        headers,
        createConnection: () => socket,
      },
      (response) => {
        const declared = Number(response.headers["content-length"] ?? "0");
        if (declared > request.maxBytes) {
          response.destroy();
          reject(new ResponseTooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > request.maxBytes) {
            response.destroy();
            reject(new ResponseTooLarge());
            return;
          }
          chunks.push(chunk);
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    socket.on("error", reject);
    outgoing.end(request.body);
  });
}
