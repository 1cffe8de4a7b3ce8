// `cli enclave --model openai` as an operator runs it (a spawned process): it starts only with the
// endpoint's attestation pins or with the explicit non-confidential flag, and says which it is.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeCbor } from "../src/cbor.ts";
import { decodeEnclaveIdentity } from "../src/identity.ts";
import { attestRequest, decodeMessage, MessageKind, sealQuery } from "../src/protocol.ts";
import { parseEndpoint } from "../src/proxy/endpoint.ts";
import { createProxy } from "../src/proxy/server.ts";
import { type AttestedEndpoint, completion, MEASUREMENTS, MODEL, startAttestedEndpoint } from "./fixtures/attested-endpoint.ts";

const CLI = join(import.meta.dirname, "../src/cli.ts");
const TOKEN = "cli-test-bridge-token-0123456789";
const dir = mkdtempSync(join(tmpdir(), "pulse-cli-"));

interface Run {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** Resolves with the listening line, or with the exit code and stderr if the process ends first. */
  readonly started: Promise<{ listening: Record<string, unknown> } | { code: number | null; stderr: string }>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(
    process.execPath,
    [CLI, "enclave", "--listen", "127.0.0.1:0", "--nsm", "simulated", "--state-dir", dir, ...args],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: Record<string, unknown>[] = [];
  let stdout = "";
  let stderr = "";
  const started = new Promise<{ listening: Record<string, unknown> } | { code: number | null; stderr: string }>((resolve) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      for (let end = stdout.indexOf("\n"); end >= 0; end = stdout.indexOf("\n")) {
        const line = JSON.parse(stdout.slice(0, end)) as Record<string, unknown>;
        stdout = stdout.slice(end + 1);
        lines.push(line);
        if (line.event === "enclave.listening") resolve({ listening: line });
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("exit", (code) => resolve({ code, stderr }));
  });
  return { child, lines, started };
}

async function refused(args: string[], reason: RegExp, env: Record<string, string> = {}): Promise<void> {
  const result = await run(args, env).started;
  assert.ok("code" in result, "the enclave started");
  assert.equal(result.code, 1);
  assert.match(result.stderr, reason);
  assert.equal(result.stderr.trimEnd().split("\n").length, 1, `one line: ${result.stderr}`);
}

describe("cli enclave --model openai", () => {
  let plain: Server;
  let plainUrl: string;
  let plainRequests: string[];
  let attested: AttestedEndpoint;
  let children: ChildProcess[];

  before(async () => {
    children = [];
    plainRequests = [];
    // A non-attested OpenAI-compatible server, as a public LLM API is to the enclave.
    plain = createServer((request, response) => {
      plainRequests.push(`${request.method} ${request.url}`);
      request.resume();
      request.on("end", () => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(completion("Your average resting heart rate was 57 bpm.")));
      });
    });
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/v1`;
    attested = await startAttestedEndpoint();
    writeFileSync(join(dir, "root.pem"), attested.rootPem);
    writeFileSync(join(dir, "tls-ca.pem"), attested.tlsCaPem);
    writeFileSync(join(dir, "measurements.json"), JSON.stringify(MEASUREMENTS));
    writeFileSync(join(dir, "wrong.json"), JSON.stringify({ ...MEASUREMENTS, mrtd: "00".repeat(48) }));
  });

  after(async () => {
    for (const child of children) child.kill();
    plain.closeAllConnections();
    await new Promise((resolve) => plain.close(resolve));
    await attested.close();
  });

  it("refuses to start with neither the attestation pins nor --non-confidential-model", async () => {
    const model = ["--model", "openai", "--model-url", plainUrl, "--model-name", "gpt-4o"];
    await refused(model, /--model-attestation-root FILE and --model-measurements FILE .* or --non-confidential-model/);
    await refused(
      [
        ...model,
        "--non-confidential-model",
        "--model-attestation-root",
        join(dir, "root.pem"),
        "--model-measurements",
        join(dir, "measurements.json"),
      ],
      /exclude each other/,
    );
    assert.deepEqual(plainRequests, []);
  });

  it("with --non-confidential-model warns once, and its attestation document says the model is not confidential", async () => {
    const started = run(["--model", "openai", "--model-url", plainUrl, "--model-name", "gpt-4o", "--non-confidential-model"]);
    children.push(started.child);
    const result = await started.started;
    assert.ok("listening" in result, `did not start: ${JSON.stringify(result)}`);
    const warnings = started.lines.filter((line) => line.level === "warn");
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.event, "model.non_confidential");
    assert.match(String(warnings[0]?.detail), /plaintext/);
    assert.deepEqual(result.listening.model, { id: "openai:gpt-4o", kind: "remote", confidential: false });

    const proxy = createProxy({ enclave: parseEndpoint(`tcp://127.0.0.1:${result.listening.port}`), token: TOKEN });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1/enclave`;
      const exchange = async (message: Uint8Array) => {
        const response = await fetch(url, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}` },
          body: message.slice(),
        });
        return decodeMessage(new Uint8Array(await response.arrayBuffer()));
      };
      const reply = await exchange(attestRequest(crypto.getRandomValues(new Uint8Array(32))));
      assert.equal(reply.kind, MessageKind.ATTESTATION);
      const [, , payload] = decodeCbor(reply.body) as [Uint8Array, unknown, Uint8Array, Uint8Array];
      const fields = decodeCbor(payload) as Map<string, unknown>;
      const identity = decodeEnclaveIdentity(fields.get("user_data") as Uint8Array);
      assert.deepEqual(identity?.model, { id: "openai:gpt-4o", kind: "remote", confidential: false });

      const sealed = await sealQuery(fields.get("public_key") as Uint8Array, {
        question: "What was my average resting heart rate?",
        now: "2026-11-23T12:00:00.000Z",
        attestationSha256: "ab".repeat(32),
        data: { metrics: { resting_heart_rate: { unit: "bpm", start: [0], end: [0], value: [57] } } },
      });
      const answer = await exchange(sealed.message);
      assert.equal(answer.kind, MessageKind.ANSWER);
      assert.equal((await sealed.openAnswer(answer.body)).answer, "Your average resting heart rate was 57 bpm.");
      assert.deepEqual(plainRequests, ["POST /v1/chat/completions"]);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("with the attestation pins starts only when the endpoint's measurements match", async () => {
    const model = ["--model", "openai", "--model-url", attested.baseUrl, "--model-name", MODEL];
    const pins = ["--model-attestation-root", join(dir, "root.pem")];
    const env = { NODE_EXTRA_CA_CERTS: join(dir, "tls-ca.pem") };
    await refused([...model, ...pins, "--model-measurements", join(dir, "wrong.json")], /WRONG_MEASUREMENTS/, env);
    assert.deepEqual(
      attested.requests.map((request) => `${request.method} ${request.path}`),
      ["GET /v1/attestation"],
    );

    const started = run([...model, ...pins, "--model-measurements", join(dir, "measurements.json")], env);
    children.push(started.child);
    const result = await started.started;
    assert.ok("listening" in result, `did not start: ${JSON.stringify(result)}`);
    assert.equal((result.listening.model as { kind: string }).kind, "remote-attested");
    assert.equal((result.listening.model as { confidential: boolean }).confidential, true);
    assert.ok(started.lines.some((line) => line.event === "model.attested" && line.spkiSha256 === attested.spkiSha256()));
    assert.ok(!started.lines.some((line) => line.level === "warn"));
  });
});
