#!/usr/bin/env node
/**
 * `enclave` runs the enclave application; `proxy` runs the parent-instance proxy; `dev-identity`
 * prints what the Worker pins for the local simulated enclave. Usage: docs/enclave-deployment.md
 * (production) and scripts/dev.mjs (local). Logs are one JSON line per event and never carry
 * questions, data or answers.
 */
import { parseArgs } from "node:util";
import { developmentEnclave } from "./dev.ts";
import { EnclaveApp } from "./enclave/app.ts";
import { serveEnclave } from "./enclave/server.ts";
import { AnalystProvider } from "./model/analyst-provider.ts";
import { LlamaProvider } from "./model/llama.ts";
import { OpenAiCompatibleProvider } from "./model/openai.ts";
import type { ModelProvider } from "./model/provider.ts";
import { NitroNsm } from "./nsm/nitro-nsm.ts";
import type { Nsm } from "./nsm/nsm.ts";
import { parseEndpoint } from "./proxy/endpoint.ts";
import { createProxy } from "./proxy/server.ts";

const USAGE = `usage:
  cli enclave --listen HOST:PORT --nsm simulated|nitro [--nsm-helper PATH] [--state-dir DIR]
              [--model analyst|openai|llama] [--model-url URL] [--model-name NAME] [--model-timeout-ms N]
              [--model-path FILE.gguf] [--model-max-tokens N] [--model-threads N]       (llama)
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
      "model-path": { type: "string" },
      "model-max-tokens": { type: "string" },
      "model-threads": { type: "string" },
    },
  });
  const address = listenAddress(values.listen);
  let nsm: Nsm;
  if (values.nsm === "simulated") {
    nsm = (await developmentEnclave(values["state-dir"] ?? ".enclave-state")).nsm;
  } else if (values.nsm === "nitro") {
    nsm = new NitroNsm(values["nsm-helper"] === undefined ? {} : { helperPath: values["nsm-helper"] });
  } else {
    throw new Error("--nsm must be simulated or nitro");
  }
  let model: ModelProvider;
  if (values.model === "analyst") {
    model = new AnalystProvider();
  } else if (values.model === "openai") {
    const baseUrl = values["model-url"];
    const name = values["model-name"];
    if (baseUrl === undefined || name === undefined) throw new Error("--model openai needs --model-url and --model-name");
    const apiKey = process.env.MODEL_API_KEY;
    model = new OpenAiCompatibleProvider({ baseUrl, model: name, ...(apiKey === undefined ? {} : { apiKey }) });
  } else if (values.model === "llama") {
    const modelPath = values["model-path"];
    if (modelPath === undefined) throw new Error("--model llama needs --model-path");
    const maxAnswerTokens = optionalInteger("--model-max-tokens", values["model-max-tokens"]);
    const threads = optionalInteger("--model-threads", values["model-threads"]);
    model = await LlamaProvider.load({
      modelPath,
      ...(maxAnswerTokens === undefined ? {} : { maxAnswerTokens }),
      ...(threads === undefined ? {} : { threads }),
    });
  } else {
    throw new Error("--model must be analyst, openai or llama");
  }
  const timeout = values["model-timeout-ms"];
  const app = await EnclaveApp.create({
    nsm,
    model,
    log,
    ...(timeout === undefined ? {} : { modelTimeoutMs: Number(timeout) }),
    // The local model answers one question at a time: a few may wait their turn within the
    // timeout; beyond that BUSY, which the Worker reports at once, beats a timeout after a long wait.
    ...(values.model === "llama" ? { maxConcurrentQueries: LLAMA_MAX_WAITING } : {}),
  });
  await serveEnclave(app, address);
  log({ event: "enclave.listening", ...address, nsm: values.nsm, model: model.name });
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
