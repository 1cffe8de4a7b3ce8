/**
 * Where the parent-instance proxy reaches the enclave: `tcp://host:port` locally, `vsock://cid:port`
 * on a Nitro parent instance. Node has no vsock sockets, so a vsock connection is a `socat` child
 * process whose stdin/stdout carry the stream (socat ships vsock support in Amazon Linux and Debian).
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { Duplex } from "node:stream";

export type EnclaveEndpoint =
  | { readonly transport: "tcp"; readonly host: string; readonly port: number }
  | { readonly transport: "vsock"; readonly cid: number; readonly port: number };

export function parseEndpoint(text: string): EnclaveEndpoint {
  const tcp = /^tcp:\/\/(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (tcp?.[1] !== undefined && tcp[2] !== undefined) {
    return { transport: "tcp", host: tcp[1].replace(/^\[|\]$/g, ""), port: portOf(tcp[2], text) };
  }
  const vsock = /^vsock:\/\/(\d{1,10}):(\d{1,10})$/.exec(text);
  if (vsock?.[1] !== undefined && vsock[2] !== undefined) {
    return { transport: "vsock", cid: Number(vsock[1]), port: Number(vsock[2]) };
  }
  throw new Error(`enclave endpoint must be tcp://host:port or vsock://cid:port, got ${JSON.stringify(text)}`);
}

function portOf(text: string, endpoint: string): number {
  const port = Number(text);
  if (port < 1 || port > 65_535) throw new Error(`port out of range in ${JSON.stringify(endpoint)}`);
  return port;
}

export interface ConnectOptions {
  /** The socat executable for vsock endpoints. */
  readonly socatPath?: string;
}

/** Opens a byte stream to the enclave. The caller destroys it when done. */
export function connectEnclave(endpoint: EnclaveEndpoint, options: ConnectOptions = {}): Duplex {
  if (endpoint.transport === "tcp") return connect({ host: endpoint.host, port: endpoint.port });
  const child = spawn(options.socatPath ?? "socat", ["STDIO", `VSOCK-CONNECT:${endpoint.cid}:${endpoint.port}`], {
    stdio: ["pipe", "pipe", "ignore"],
  });
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  child.once("error", (error) => stream.destroy(error));
  child.once("exit", (code) => {
    if (code !== 0) stream.destroy(new Error(`socat exited with ${code}`));
  });
  stream.once("close", () => child.kill());
  return stream;
}
