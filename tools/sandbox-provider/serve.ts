/**
 * The sandbox provider on node:http, for `npm run dev` (scripts/dev.mjs) and the workerd tests'
 * global setup (test/support/sandbox-provider.global.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createSandboxProvider, type SandboxOptions, type SandboxProvider } from "./provider.ts";

export interface ServeOptions extends SandboxOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
}

export interface RunningSandbox {
  provider: SandboxProvider;
  server: Server;
  origin: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

export function serveSandboxProvider(options: ServeOptions): Promise<RunningSandbox> {
  const provider = createSandboxProvider(options);
  const host = options.host ?? "127.0.0.1";
  const server = createServer((request, response) => {
    handle(provider, host, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      const { port } = server.address() as AddressInfo;
      const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      resolve({
        provider,
        server,
        origin,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

async function handle(provider: SandboxProvider, host: string, request: IncomingMessage, response: ServerResponse) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) {
      response.writeHead(413, { "Content-Type": "application/json" }).end('{"error":"payload_too_large"}');
      return;
    }
    chunks.push(chunk as Buffer);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  const method = request.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks);
  const url = new URL(request.url ?? "/", `http://${request.headers.host ?? host}`);
  const answer = await provider.fetch(new Request(url, { method, headers, body }));
  const outHeaders: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    outHeaders[name] = value;
  });
  response.writeHead(answer.status, outHeaders);
  response.end(Buffer.from(await answer.arrayBuffer()));
}
