// Starts the real enclave-bridge — the enclave application (simulated NSM, built-in analyst) and
// the parent proxy over TCP — in the vitest process, for the workerd tests of /v1/ai/* to call
// over HTTP like `npm run dev` does. The pins the Worker needs travel to the tests via provide().

import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { developmentEnclave } from "../../enclave-bridge/src/dev.ts";
import { EnclaveApp } from "../../enclave-bridge/src/enclave/app.ts";
import { serveEnclave } from "../../enclave-bridge/src/enclave/server.ts";
import { AnalystProvider } from "../../enclave-bridge/src/model/analyst-provider.ts";
import { parseEndpoint } from "../../enclave-bridge/src/proxy/endpoint.ts";
import { createProxy } from "../../enclave-bridge/src/proxy/server.ts";

import type { EnclaveBridgeFixture } from "./enclave-bridge-fixture";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = mkdtempSync(join(tmpdir(), "pulse-enclave-"));
  const identity = await developmentEnclave(stateDir, "workerd-tests");
  const app = await EnclaveApp.create({ nsm: identity.nsm, model: new AnalystProvider() });
  const enclave = await serveEnclave(app, { host: "127.0.0.1", port: 0 });
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  const proxy = createProxy({ enclave: parseEndpoint(`tcp://127.0.0.1:${(enclave.address() as AddressInfo).port}`), token });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const der = identity.rootPem.replace(/-----[A-Z ]+-----|\s/g, "");
  const fixture: EnclaveBridgeFixture = {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    token,
    pcrs: { 0: identity.pcrs[0], 1: identity.pcrs[1], 2: identity.pcrs[2] },
    rootSha256: identity.rootSha256,
    rootCertificate: der,
  };
  project.provide("enclaveBridge", fixture);
  return async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await new Promise((resolve) => enclave.close(resolve));
    rmSync(stateDir, { recursive: true, force: true });
  };
}
