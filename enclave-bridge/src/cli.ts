#!/usr/bin/env node
/**
 * `enclave` runs the enclave application; `proxy` runs the parent-instance proxy; `dev-identity`
 * prints what the Worker pins for the local simulated enclave. Usage: docs/enclave-deployment.md
 * (production) and scripts/dev.mjs (local). Logs are one JSON line per event and never carry
 * questions, data or answers.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { developmentEnclave } from "./dev.ts";
import { EnclaveApp } from "./enclave/app.ts";
import { serveEnclave } from "./enclave/server.ts";
import { AnalystProvider } from "./model/analyst-provider.ts";
import { AttestedOpenAiProvider } from "./model/attested-openai.ts";
import { LlamaProvider } from "./model/llama.ts";
import { OpenAiCompatibleProvider } from "./model/openai.ts";
import type { ModelProvider } from "./model/provider.ts";
import { loadModelRoot, parseMeasurements } from "./model/remote-attestation.ts";
import { NitroNsm } from "./nsm/nitro-nsm.ts";
import type { Nsm } from "./nsm/nsm.ts";
import { parseEndpoint } from "./proxy/endpoint.ts";
import { createProxy } from "./proxy/server.ts";

const USAGE = `usage:
  cli enclave --listen HOST:PORT --nsm simulated|nitro [--nsm-helper PATH] [--state-dir DIR]
              [--model analyst|openai|llama] [--model-url URL] [--model-name NAME] [--model-timeout-ms N]
              with --model openai, one of:
                --model-attestation-root FILE --model-measurements FILE   (an attested endpoint)
                --non-confidential-model     (the endpoint's operator sees questions and data)
              with --model llama: --model-path FILE.gguf [--model-max-tokens N] [--model-threads N]
  cli proxy --listen HOST:PORT --enclave tcp://HOST:PORT|vsock://CID:PORT   (env BRIDGE_TOKEN)
  cli dev-identity --state-dir DIR`;

const LLAMA_MAX_WAITING = 4;

function optionalInteger(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new Error(`${flag} must be a positive integer`);
  return Number(text);
}

function log(line: object): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
}

function listenAddress(text: string | undefined): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(text ?? "");
  if (match?.[1] === undefined || match[2] === undefined) throw new Error("--listen must be HOST:PORT");
  return { host: match[1], port: Number(match[2]) };
}

async function enclaveCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      listen: { type: "string" },
      nsm: { type: "string" },
      "nsm-helper": { type: "string" },
      "state-dir": { type: "string" },
      model: { type: "string", default: "analyst" },
      "model-url": { type: "string" },
      "model-name": { type: "string" },
      "model-timeout-ms": { type: "string" },
      "model-attestation-root": { type: "string" },
      "model-measurements": { type: "string" },
      "non-confidential-model": { type: "boolean", default: false },
      "model-path": { type: "string" },
      "model-max-tokens": { type: "string" },
      "model-threads": { type: "string" },
    },
  });
  const address = listenAddress(values.listen);
  // The model first: a configuration that would send plaintext somewhere unattested stops here.
  const timeout = values["model-timeout-ms"];
  const model = await modelFrom(values, timeout === undefined ? undefined : Number(timeout));
  let nsm: Nsm;
  if (values.nsm === "simulated") {
    nsm = (await developmentEnclave(values["state-dir"] ?? ".enclave-state")).nsm;
  } else if (values.nsm === "nitro") {
    nsm = new NitroNsm(values["nsm-helper"] === undefined ? {} : { helperPath: values["nsm-helper"] });
  } else {
    throw new Error("--nsm must be simulated or nitro");
  }
  const app = await EnclaveApp.create({
    nsm,
    model,
    log,
    ...(timeout === undefined ? {} : { modelTimeoutMs: Number(timeout) }),
    // The local model answers one question at a time: a few may wait their turn within the
    // timeout; beyond that BUSY, which the Worker reports at once, beats a timeout after a long wait.
    ...(values.model === "llama" ? { maxConcurrentQueries: LLAMA_MAX_WAITING } : {}),
  });
  const server = await serveEnclave(app, address);
  const { port } = server.address() as AddressInfo;
  log({ event: "enclave.listening", host: address.host, port, nsm: values.nsm, model: model.identity });
}

interface ModelFlags {
  model?: string | undefined;
  "model-path"?: string | undefined;
  "model-max-tokens"?: string | undefined;
  "model-threads"?: string | undefined;
  "model-url"?: string | undefined;
  "model-name"?: string | undefined;
  "model-attestation-root"?: string | undefined;
  "model-measurements"?: string | undefined;
  "non-confidential-model"?: boolean | undefined;
}

/**
 * A model outside the enclave sees the question and the data in plaintext, so it is used only when
 * its own attestation verifies against pinned measurements, or when the operator says, with a flag
 * of its own, that it is not confidential (and the attestation document's user_data then says so).
 */
async function modelFrom(values: ModelFlags, timeoutMs: number | undefined): Promise<ModelProvider> {
  const rootFile = values["model-attestation-root"];
  const measurementsFile = values["model-measurements"];
  const nonConfidential = values["non-confidential-model"] === true;
  const attested = rootFile !== undefined || measurementsFile !== undefined;
  if (values.model !== "openai" && (attested || nonConfidential)) {
    throw new Error("model attestation flags apply to --model openai only");
  }
  if (values.model === "analyst") return new AnalystProvider();
  if (values.model === "llama") {
    // Weights baked into the image, run by the enclave itself: measured by PCR0, nothing leaves.
    const modelPath = values["model-path"];
    if (modelPath === undefined) throw new Error("--model llama needs --model-path");
    const maxAnswerTokens = optionalInteger("--model-max-tokens", values["model-max-tokens"]);
    const threads = optionalInteger("--model-threads", values["model-threads"]);
    return LlamaProvider.load({
      modelPath,
      ...(maxAnswerTokens === undefined ? {} : { maxAnswerTokens }),
      ...(threads === undefined ? {} : { threads }),
    });
  }
  if (values.model !== "openai") throw new Error("--model must be analyst, openai or llama");
  const baseUrl = values["model-url"];
  const name = values["model-name"];
  if (baseUrl === undefined || name === undefined) throw new Error("--model openai needs --model-url and --model-name");
  const apiKey = process.env.MODEL_API_KEY;
  const common = {
    baseUrl,
    model: name,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
  if (attested && nonConfidential) {
    throw new Error("--non-confidential-model and --model-attestation-root/--model-measurements exclude each other");
  }
  if (nonConfidential) {
    log({
      level: "warn",
      event: "model.non_confidential",
      detail: "questions and health data leave attested hardware: the model endpoint's operator sees them in plaintext",
    });
    return new OpenAiCompatibleProvider(common);
  }
  if (rootFile === undefined || measurementsFile === undefined) {
    throw new Error(
      "--model openai needs --model-attestation-root FILE and --model-measurements FILE (an attested endpoint), or --non-confidential-model",
    );
  }
  const root = await loadModelRoot(readFileSync(rootFile, "utf8"));
  const measurements = parseMeasurements(readFileSync(measurementsFile, "utf8"));
  log({ event: "model.attestation.pinned", rootSha256: root.sha256, measurements: Object.keys(measurements) });
  return AttestedOpenAiProvider.create({ ...common, root, measurements, log });
}

async function proxyCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { listen: { type: "string" }, enclave: { type: "string" } } });
  const address = listenAddress(values.listen);
  const token = process.env.BRIDGE_TOKEN;
  if (token === undefined) throw new Error("BRIDGE_TOKEN is not set");
  const enclave = parseEndpoint(values.enclave ?? "");
  const server = createProxy({ enclave, token, log });
  await new Promise<void>((resolve) => server.listen(address.port, address.host, resolve));
  log({ event: "proxy.listening", ...address, enclave: values.enclave });
}

async function devIdentityCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { "state-dir": { type: "string" } } });
  const identity = await developmentEnclave(values["state-dir"] ?? ".enclave-state");
  process.stdout.write(
    `${JSON.stringify({ rootPem: identity.rootPem, rootSha256: identity.rootSha256, pcrs: identity.pcrs })}\n`,
  );
}

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<void>> = {
  enclave: enclaveCommand,
  proxy: proxyCommand,
  "dev-identity": devIdentityCommand,
};
const run = command === undefined ? undefined : commands[command];
if (run === undefined) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
run(rest).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
