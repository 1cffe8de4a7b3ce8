// Starts the real enclave-bridge — the enclave application (simulated NSM, built-in analyst) and
// the parent proxy over TCP — in the vitest process, for the workerd tests of /v1/ai/* to call
// over HTTP like `npm run dev` does. The pins the Worker needs travel to the tests via provide().
//
// A second bridge stands for an enclave that restarts: its proxy reaches the enclave through a
// relay that a `POST /restart` on the control server switches to another enclave instance (same
// image, same PCRs, new HPKE key), as a real restart would.
//
// A third bridge's enclave answers with a non-confidential model: an OpenAI-compatible server
// started here, which nothing attests (the enclave's attestation says so in user_data).

import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { type AddressInfo, connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { developmentEnclave } from "../../enclave-bridge/src/dev.ts";
import { EnclaveApp } from "../../enclave-bridge/src/enclave/app.ts";
import { serveEnclave } from "../../enclave-bridge/src/enclave/server.ts";
import { AnalystProvider } from "../../enclave-bridge/src/model/analyst-provider.ts";
import { OpenAiCompatibleProvider } from "../../enclave-bridge/src/model/openai.ts";
import type { ModelProvider } from "../../enclave-bridge/src/model/provider.ts";
import type { Nsm } from "../../enclave-bridge/src/nsm/nsm.ts";
import { parseEndpoint } from "../../enclave-bridge/src/proxy/endpoint.ts";
import { createProxy } from "../../enclave-bridge/src/proxy/server.ts";
import type { EnclaveBridgeFixture } from "./enclave-bridge-fixture";

const NON_CONFIDENTIAL_ANSWER = "Your resting heart rate averaged 57.7 bpm last week (stand-in model).";

const portOf = (server: Server | HttpServer) => (server.address() as AddressInfo).port;

function listen<T extends Server | HttpServer>(server: T): Promise<T> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function close(server: Server | HttpServer): Promise<unknown> {
  if ("closeAllConnections" in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
}

async function startEnclave(
  nsm: Nsm,
  model: ModelProvider = new AnalystProvider(),
  maxConcurrentQueries?: number,
): Promise<Server> {
  const app = await EnclaveApp.create({ nsm, model, ...(maxConcurrentQueries === undefined ? {} : { maxConcurrentQueries }) });
  return serveEnclave(app, { host: "127.0.0.1", port: 0 });
}

/** Answers every Chat Completions request with one fixed answer, in OpenAI's response shape. */
function chatCompletionsServer(content: string): HttpServer {
  return createHttpServer((request, response) => {
    request.resume();
    request.on("end", () => {
      const ok = request.method === "POST" && request.url === "/v1/chat/completions";
      response.writeHead(ok ? 200 : 404, { "content-type": "application/json" });
      response.end(
        JSON.stringify(
          ok
            ? {
                object: "chat.completion",
                model: "stand-in",
                choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
              }
            : { error: { message: "not found" } },
        ),
      );
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = mkdtempSync(join(tmpdir(), "pulse-enclave-"));
  const identity = await developmentEnclave(stateDir, "workerd-tests");
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  const servers: (Server | HttpServer)[] = [];

  const enclave = await startEnclave(identity.nsm);
  const proxy = await listen(createProxy({ enclave: parseEndpoint(`tcp://127.0.0.1:${portOf(enclave)}`), token }));

  // The restartable bridge: proxy → relay → the current enclave instance.
  let current = await startEnclave(identity.nsm);
  const relay = await listen(
    createServer((socket) => {
      const upstream = connect(portOf(current), "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    }),
  );
  const restartableProxy = await listen(createProxy({ enclave: parseEndpoint(`tcp://127.0.0.1:${portOf(relay)}`), token }));
  const control = await listen(
    createHttpServer((request, response) => {
      if (request.method !== "POST" || request.url !== "/restart") {
        response.writeHead(404).end();
        return;
      }
      const previous = current;
      startEnclave(identity.nsm)
        .then(async (next) => {
          current = next;
          servers.push(next);
          await close(previous);
          response.writeHead(204).end();
        })
        .catch(() => response.writeHead(500).end());
    }),
  );
  // A parent instance that misbehaves: `/huge/v1/enclave` answers 2 MiB, `/garbage/v1/enclave` an
  // ATTESTATION message whose document is not CBOR.
  const hostile = await listen(
    createHttpServer((request, response) => {
      request.resume();
      if (request.url === "/huge/v1/enclave") response.end(Buffer.alloc(2 * 1024 * 1024, 0x81));
      else if (request.url === "/garbage/v1/enclave") response.end(Buffer.from([0x81, 0xff, 0x00, 0x13]));
      else response.writeHead(404).end();
    }),
  );
  const chat = await listen(chatCompletionsServer(NON_CONFIDENTIAL_ANSWER));
  const remoteModel = new OpenAiCompatibleProvider({ baseUrl: `http://127.0.0.1:${portOf(chat)}/v1`, model: "stand-in" });
  const nonConfidential = await startEnclave(identity.nsm, remoteModel);
  const nonConfidentialProxy = await listen(
    createProxy({ enclave: parseEndpoint(`tcp://127.0.0.1:${portOf(nonConfidential)}`), token }),
  );
  // An enclave with no room for another query: it attests, then answers every query BUSY, as one
  // whose model is occupied does (the llama path allows one generation and a short queue).
  const busy = await startEnclave(identity.nsm, new AnalystProvider(), 0);
  const busyProxy = await listen(createProxy({ enclave: parseEndpoint(`tcp://127.0.0.1:${portOf(busy)}`), token }));
  servers.push(
    enclave,
    proxy,
    current,
    relay,
    restartableProxy,
    control,
    hostile,
    chat,
    nonConfidential,
    nonConfidentialProxy,
    busy,
    busyProxy,
  );

  const fixture: EnclaveBridgeFixture = {
    url: `http://127.0.0.1:${portOf(proxy)}`,
    restartableUrl: `http://127.0.0.1:${portOf(restartableProxy)}`,
    restartUrl: `http://127.0.0.1:${portOf(control)}/restart`,
    hostileUrl: `http://127.0.0.1:${portOf(hostile)}`,
    nonConfidentialUrl: `http://127.0.0.1:${portOf(nonConfidentialProxy)}`,
    nonConfidentialAnswer: NON_CONFIDENTIAL_ANSWER,
    busyUrl: `http://127.0.0.1:${portOf(busyProxy)}`,
    token,
    pcrs: { 0: identity.pcrs[0], 1: identity.pcrs[1], 2: identity.pcrs[2] },
    rootSha256: identity.rootSha256,
    rootCertificate: identity.rootPem.replace(/-----[A-Z ]+-----|\s/g, ""),
  };
  project.provide("enclaveBridge", fixture);
  return async () => {
    await Promise.all(servers.map(close));
    rmSync(stateDir, { recursive: true, force: true });
  };
}
