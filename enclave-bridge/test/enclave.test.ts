// The enclave application and the parent proxy together over real sockets: a caller attests,
// seals a question to the attested key, and opens the answer; every refusal is an error code.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AnalystAnswer, AnalystInput } from "../src/analyst/types.ts";
import { decodeCbor } from "../src/cbor.ts";
import { EnclaveApp, type EnclaveLogEvent } from "../src/enclave/app.ts";
import { serveEnclave } from "../src/enclave/server.ts";
import { AnalystProvider } from "../src/model/analyst-provider.ts";
import type { ModelProvider } from "../src/model/provider.ts";
import { SimulatedNsm } from "../src/nsm/simulated-nsm.ts";
import {
  attestRequest,
  decodeMessage,
  type EnclaveQuery,
  encodeMessage,
  errorCodeOf,
  MessageKind,
  ProtocolError,
  sealQuery,
} from "../src/protocol.ts";
import { parseEndpoint } from "../src/proxy/endpoint.ts";
import { createProxy, type ProxyLogLine } from "../src/proxy/server.ts";

const TOKEN = "test-bridge-token-0123456789";
const QUESTION = "What was my average resting heart rate last week?";
const NOW = "2026-11-23T12:00:00.000Z";
const DAY = 86_400_000;
const nowMs = Date.parse(NOW);
// Six readings in the last seven days (mean 57.666…) and one outside the window.
const readings = [
  [1, 56],
  [2, 58],
  [3, 57],
  [4, 60],
  [5, 55],
  [6, 60],
  [20, 90],
] as const;
const QUERY: EnclaveQuery = {
  question: QUESTION,
  now: NOW,
  // The enclave names it in the receipt without checking it (only the Worker knows the document it verified).
  attestationSha256: "ab".repeat(32),
  data: {
    metrics: {
      resting_heart_rate: {
        unit: "bpm",
        start: readings.map(([days]) => nowMs - days * DAY),
        end: readings.map(([days]) => nowMs - days * DAY),
        value: readings.map(([, value]) => value),
      },
    },
  },
};

interface Bridge {
  url: string;
  enclavePort: number;
  enclaveLogs: EnclaveLogEvent[];
  proxyLogs: ProxyLogLine[];
  close(): Promise<void>;
}

async function startBridge(model: ModelProvider = new AnalystProvider(), maxConcurrentQueries?: number): Promise<Bridge> {
  const enclaveLogs: EnclaveLogEvent[] = [];
  const proxyLogs: ProxyLogLine[] = [];
  const nsm = await SimulatedNsm.create({ imageIdentity: "enclave-test" });
  const app = await EnclaveApp.create({
    nsm,
    model,
    log: (event) => enclaveLogs.push(event),
    ...(maxConcurrentQueries === undefined ? {} : { maxConcurrentQueries }),
  });
  const enclave: Server = await serveEnclave(app, { host: "127.0.0.1", port: 0 });
  const port = (enclave.address() as { port: number }).port;
  const proxy: HttpServer = createProxy({
    enclave: parseEndpoint(`tcp://127.0.0.1:${port}`),
    token: TOKEN,
    log: (line) => proxyLogs.push(line),
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  return {
    url,
    enclavePort: port,
    enclaveLogs,
    proxyLogs,
    close: async () => {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await new Promise((resolve) => enclave.close(resolve));
    },
  };
}

async function send(url: string, message: Uint8Array, token = TOKEN): Promise<Response> {
  return fetch(`${url}/v1/enclave`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: message.slice() });
}

async function exchange(url: string, message: Uint8Array): Promise<{ kind: number; body: Uint8Array }> {
  const response = await send(url, message);
  assert.equal(response.status, 200);
  return decodeMessage(new Uint8Array(await response.arrayBuffer()));
}

async function attestedKey(url: string): Promise<Uint8Array> {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const reply = await exchange(url, attestRequest(nonce));
  assert.equal(reply.kind, MessageKind.ATTESTATION);
  const [, , payload] = decodeCbor(reply.body) as [Uint8Array, unknown, Uint8Array, Uint8Array];
  const fields = decodeCbor(payload) as Map<string, unknown>;
  assert.deepEqual(fields.get("nonce"), nonce);
  const publicKey = fields.get("public_key");
  assert.ok(publicKey instanceof Uint8Array);
  return publicKey;
}

async function ask(url: string, publicKey: Uint8Array, query: EnclaveQuery = QUERY): Promise<AnalystAnswer> {
  const sealed = await sealQuery(publicKey, query);
  const reply = await exchange(url, sealed.message);
  assert.equal(reply.kind, MessageKind.ANSWER, `enclave answered ${errorCodeOf(reply.body)}`);
  return sealed.openAnswer(reply.body);
}

describe("enclave behind the proxy", () => {
  let bridge: Bridge;
  before(async () => {
    bridge = await startBridge();
  });
  after(() => bridge.close());

  it("attests with the caller's nonce and its HPKE key, then answers a sealed question", async () => {
    const publicKey = await attestedKey(bridge.url);
    assert.equal(publicKey.byteLength, 32);
    const answer = await ask(bridge.url, publicKey);
    assert.match(answer.answer, /57\.7 bpm/);
    assert.deepEqual(answer.usedMetrics, ["resting_heart_rate"]);
    assert.ok(answer.figures.some((figure) => figure.value === 57.7 && figure.unit === "bpm"));
  });

  it("refuses a tampered ciphertext without answering", async () => {
    const publicKey = await attestedKey(bridge.url);
    const sealed = await sealQuery(publicKey, QUERY);
    const tampered = sealed.message.slice();
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 0x01;
    const reply = await exchange(bridge.url, tampered);
    assert.equal(reply.kind, MessageKind.ERROR);
    assert.equal(errorCodeOf(reply.body), "DECRYPT_FAILED");
  });

  it("answers UNKNOWN_KEY to a query sealed to another key", async () => {
    const other = await startBridge();
    try {
      const otherKey = await attestedKey(other.url);
      const sealed = await sealQuery(otherKey, QUERY);
      const reply = await exchange(bridge.url, sealed.message);
      assert.equal(errorCodeOf(reply.body), "UNKNOWN_KEY");
    } finally {
      await other.close();
    }
  });

  it("refuses an answer that was altered on the way back", async () => {
    const publicKey = await attestedKey(bridge.url);
    const sealed = await sealQuery(publicKey, QUERY);
    const reply = await exchange(bridge.url, sealed.message);
    const altered = reply.body.slice();
    altered[0] = (altered[0] ?? 0) ^ 0x80;
    await assert.rejects(
      sealed.openAnswer(altered),
      (error: unknown) => error instanceof ProtocolError && error.code === "DECRYPT_FAILED",
    );
  });

  it("refuses a sealed body that is not a query and messages it does not know", async () => {
    const publicKey = await attestedKey(bridge.url);
    const notAQuery = await sealQuery(publicKey, { question: 5, now: NOW, data: {} } as unknown as EnclaveQuery);
    assert.equal(errorCodeOf((await exchange(bridge.url, notAQuery.message)).body), "BAD_QUERY");
    assert.equal(errorCodeOf((await exchange(bridge.url, encodeMessage(0x42, new Uint8Array(4)))).body), "BAD_MESSAGE");
    assert.equal(
      errorCodeOf((await exchange(bridge.url, encodeMessage(MessageKind.QUERY, new Uint8Array(10)))).body),
      "BAD_MESSAGE",
    );
    assert.equal(
      errorCodeOf((await exchange(bridge.url, encodeMessage(MessageKind.ATTEST, new Uint8Array(513)))).body),
      "BAD_NONCE",
    );
  });

  it("summarizes from the narrative sealed with the query, in the asker's zone, and refuses a malformed or oversized one", async () => {
    const publicKey = await attestedKey(bridge.url);
    // 12:00 UTC on Monday 23 November is 01:00 on Tuesday 24 November at +13:00: "yesterday" is the 23rd there.
    const narrative = {
      period: "day" as const,
      date: "2026-11-23",
      endDate: "2026-11-23",
      timeZone: "+13:00",
      sections: [
        {
          domain: "activity",
          title: "Activity",
          sentences: ["8,120 steps in the day."],
          figures: [{ code: "steps", label: "Steps", value: 8120, unit: "steps" }],
        },
      ],
      noData: ["glucose", "heart", "blood_pressure", "sleep", "body"],
    };
    const ask = async (query: EnclaveQuery) => {
      const sealed = await sealQuery(publicKey, query);
      const reply = await exchange(bridge.url, sealed.message);
      if (reply.kind !== MessageKind.ANSWER) return errorCodeOf(reply.body);
      // The receipt is checked in receipt.test.ts; here, the answer itself.
      const { receipt: _receipt, ...answer } = await sealed.openAnswer(reply.body);
      return answer;
    };
    const summary = {
      question: "summarize yesterday",
      now: NOW,
      timeZone: "+13:00",
      attestationSha256: QUERY.attestationSha256,
      data: { metrics: {}, narrative },
    };
    assert.deepEqual(await ask(summary), {
      answer:
        "Your day, Monday 23 November: Activity: 8,120 steps in the day. No data for: glucose, heart, blood pressure, sleep, body.",
      usedMetrics: ["steps"],
      figures: [{ label: "Activity: Steps", value: 8120, unit: "steps" }],
    });
    // In UTC the same words name Sunday 22 November, which this narrative is not.
    assert.deepEqual(await ask({ ...summary, timeZone: "UTC" }), {
      answer: "I have no data to summarize for your day, Sunday 22 November.",
      usedMetrics: [],
      figures: [],
    });
    const bad = (change: Record<string, unknown>) =>
      ask({ ...summary, data: { metrics: {}, narrative: { ...narrative, ...change } } } as unknown as EnclaveQuery);
    assert.equal(await bad({ period: "month" }), "BAD_QUERY");
    assert.equal(await bad({ date: "23 Nov" }), "BAD_QUERY");
    assert.equal(await bad({ timeZone: "Mars/Olympus" }), "BAD_QUERY");
    assert.equal(await bad({ sections: "Activity" }), "BAD_QUERY");
    assert.equal(
      await bad({
        sections: [{ ...narrative.sections[0], figures: [{ code: "steps", label: "Steps", value: "8120", unit: "steps" }] }],
      }),
      "BAD_QUERY",
    );
    assert.equal(await bad({ sections: [{ ...narrative.sections[0], sentences: ["x".repeat(2_001)] }] }), "BAD_QUERY");
    assert.equal(await bad({ sections: Array.from({ length: 13 }, () => narrative.sections[0]) }), "BAD_QUERY");
    assert.equal(await bad({ noData: [1] }), "BAD_QUERY");
    assert.equal(await ask({ ...summary, timeZone: "Z" } as EnclaveQuery), "BAD_QUERY");
  });

  it("refuses to seal to something that is not an X25519 key, such as the filler in AWS sample documents", async () => {
    await assert.rejects(sealQuery(new Uint8Array(1024).fill(1), QUERY), (error: unknown) => error instanceof ProtocolError);
    // Right length, but a low-order point: the key agreement itself must refuse it.
    await assert.rejects(sealQuery(new Uint8Array(32), QUERY), (error: unknown) => error instanceof ProtocolError);
  });

  it("keeps the question, the data and the answer out of every log line", async () => {
    const publicKey = await attestedKey(bridge.url);
    const answer = await ask(bridge.url, publicKey);
    const logs = JSON.stringify([...bridge.enclaveLogs, ...bridge.proxyLogs]);
    assert.ok(bridge.enclaveLogs.some((event) => event.kind === "query" && event.outcome === "ok"));
    assert.ok(!logs.includes("resting"), "question text in logs");
    assert.ok(!logs.includes(answer.answer.slice(0, 20)), "answer text in logs");
    assert.ok(!logs.includes("57.7"), "answer figures in logs");
  });
});

describe("the proxy's own refusals", () => {
  let bridge: Bridge;
  before(async () => {
    bridge = await startBridge();
  });
  after(() => bridge.close());

  it("requires the Worker's bearer token", async () => {
    assert.equal((await send(bridge.url, attestRequest(new Uint8Array(8)), "wrong-token-0123456789")).status, 401);
    const anonymous = await fetch(`${bridge.url}/v1/enclave`, { method: "POST", body: new Uint8Array(8) });
    assert.equal(anonymous.status, 401);
  });

  it("answers 404, 405, 400 and 413 for what it does not forward", async () => {
    assert.equal((await fetch(`${bridge.url}/elsewhere`)).status, 404);
    assert.equal((await fetch(`${bridge.url}/v1/enclave`)).status, 405);
    assert.equal((await send(bridge.url, new Uint8Array(0))).status, 400);
    const tooLarge = await fetch(`${bridge.url}/v1/enclave`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-length": String(17 * 1024 * 1024) },
      body: new Uint8Array(17 * 1024 * 1024),
    });
    assert.equal(tooLarge.status, 413);
    assert.equal((await fetch(`${bridge.url}/health`)).status, 200);
  });

  it("answers 502 when the enclave is not there", async () => {
    const proxy = createProxy({ enclave: parseEndpoint("tcp://127.0.0.1:9"), token: TOKEN });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const response = await send(url, attestRequest(new Uint8Array(8)));
      assert.equal(response.status, 502);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("reaches a vsock endpoint through socat's stdio", async () => {
    // A stand-in for `socat STDIO VSOCK-CONNECT:16:5000` that checks its arguments and relays the
    // stream to the test enclave over TCP.
    const dir = mkdtempSync(join(tmpdir(), "fake-socat-"));
    const fake = join(dir, "socat");
    writeFileSync(
      fake,
      `#!/usr/bin/env node
if (process.argv[2] !== "STDIO" || process.argv[3] !== "VSOCK-CONNECT:16:5000") process.exit(3);
const socket = require("node:net").connect(${bridge.enclavePort}, "127.0.0.1");
process.stdin.pipe(socket).pipe(process.stdout);
`,
    );
    chmodSync(fake, 0o755);
    const proxy = createProxy({ enclave: parseEndpoint("vsock://16:5000"), token: TOKEN, socatPath: fake });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const answer = await ask(url, await attestedKey(url));
      assert.match(answer.answer, /57\.7 bpm/);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("rejects endpoints it cannot reach", () => {
    assert.throws(() => parseEndpoint("http://127.0.0.1:5000"));
    assert.throws(() => parseEndpoint("tcp://127.0.0.1:70000"));
  });
});

describe("enclave limits", () => {
  it("answers MODEL_FAILED without the model's message, which may quote the question", async () => {
    const leaky: ModelProvider = {
      identity: { id: "leaky", kind: "analyst", confidential: true },
      name: "leaky",
      answer: async (input: AnalystInput) => {
        throw new Error(`cannot answer ${input.question}`);
      },
    };
    const bridge = await startBridge(leaky);
    try {
      const sealed = await sealQuery(await attestedKey(bridge.url), QUERY);
      const response = await send(bridge.url, sealed.message);
      const bytes = new Uint8Array(await response.arrayBuffer());
      assert.equal(errorCodeOf(decodeMessage(bytes).body), "MODEL_FAILED");
      assert.ok(!new TextDecoder().decode(bytes).includes("resting"));
    } finally {
      await bridge.close();
    }
  });

  it("answers BUSY beyond its concurrency instead of queueing plaintext", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: ModelProvider = {
      identity: { id: "slow", kind: "analyst", confidential: true },
      name: "slow",
      answer: async () => {
        await gate;
        return { answer: "done", usedMetrics: [], figures: [] };
      },
    };
    const bridge = await startBridge(slow, 1);
    try {
      const publicKey = await attestedKey(bridge.url);
      const first = ask(bridge.url, publicKey);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await exchange(bridge.url, (await sealQuery(publicKey, QUERY)).message);
      assert.equal(errorCodeOf(second.body), "BUSY");
      release();
      assert.equal((await first).answer, "done");
    } finally {
      await bridge.close();
    }
  });
});
