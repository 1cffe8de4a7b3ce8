// A model outside the enclave, used only while attested: the provider against a stand-in
// confidential-inference endpoint (real HTTPS, real certificates and signatures made here) that
// records every request, so each refusal is checked by what never reached it.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { AnalystInput } from "../src/analyst/types.ts";
import { EnclaveApp } from "../src/enclave/app.ts";
import { AttestedOpenAiProvider, type ModelAttestedEvent } from "../src/model/attested-openai.ts";
import { ModelError } from "../src/model/provider.ts";
import {
  loadModelRoot,
  type Measurements,
  measurementsDigest,
  parseMeasurements,
  RemoteAttestationError,
  type RemoteAttestationFailure,
  verifyRemoteAttestation,
} from "../src/model/remote-attestation.ts";
import { SimulatedNsm } from "../src/nsm/simulated-nsm.ts";
import { decodeMessage, type EnclaveQuery, errorCodeOf, MessageKind, sealQuery } from "../src/protocol.ts";
import {
  type AttestedEndpoint,
  createAttestationPki,
  MEASUREMENTS,
  MODEL,
  startAttestedEndpoint,
} from "./fixtures/attested-endpoint.ts";

const QUESTION = "What was my average resting heart rate last week?";
const input: AnalystInput = {
  question: QUESTION,
  now: "2026-11-23T12:00:00.000Z",
  data: {
    metrics: {
      resting_heart_rate: {
        unit: "bpm",
        points: [{ start: "2026-11-22T00:00:00Z", end: "2026-11-22T00:00:00Z", value: 57 }],
      },
    },
  },
};

const paths = (endpoint: AttestedEndpoint) => endpoint.requests.map((request) => `${request.method} ${request.path}`);

describe("AttestedOpenAiProvider", () => {
  let endpoint: AttestedEndpoint;
  let events: ModelAttestedEvent[];

  before(async () => {
    endpoint = await startAttestedEndpoint();
  });
  after(() => endpoint.close());
  afterEach(() => {
    endpoint.requests.length = 0;
    endpoint.tamper = undefined;
    endpoint.corruptSignature = false;
  });

  function create(overrides: { measurements?: Measurements; root?: AttestedEndpoint["root"]; model?: string } = {}) {
    events = [];
    return AttestedOpenAiProvider.create({
      baseUrl: endpoint.baseUrl,
      model: overrides.model ?? MODEL,
      apiKey: "sk-attested",
      root: overrides.root ?? endpoint.root,
      measurements: overrides.measurements ?? MEASUREMENTS,
      tlsCa: endpoint.tlsCaPem,
      log: (event) => events.push(event),
    });
  }

  async function refusedAtStart(reason: RemoteAttestationFailure, provider: Promise<unknown> = create()): Promise<void> {
    await assert.rejects(provider, (error: unknown) => {
      assert.ok(error instanceof RemoteAttestationError, `expected a RemoteAttestationError, got ${String(error)}`);
      assert.equal(error.reason, reason);
      return true;
    });
    // Refused before anything but the attestation request reached the endpoint.
    assert.deepEqual(paths(endpoint), ["GET /v1/attestation"]);
  }

  it("attests at start with pinned measurements, then sends the question over the attested key", async () => {
    const provider = await create();
    const digest = await measurementsDigest(MEASUREMENTS);
    assert.deepEqual(provider.identity, { id: `openai:${MODEL}@${digest}`, kind: "remote-attested", confidential: true });
    assert.match(digest, /^[0-9a-f]{16}$/);
    assert.deepEqual(provider.attestedKeys, [endpoint.spkiSha256()]);
    assert.deepEqual(events, [{ event: "model.attested", reason: "start", spkiSha256: endpoint.spkiSha256() }]);

    const answer = await provider.answer(input);
    assert.equal(answer.answer, endpoint.answer);
    assert.deepEqual(answer.usedMetrics, ["resting_heart_rate"]);
    assert.deepEqual(paths(endpoint), ["GET /v1/attestation", "POST /v1/chat/completions"]);
    const chat = JSON.parse(endpoint.requests[1]?.body ?? "{}") as { model: string; messages: { content: string }[] };
    assert.equal(chat.model, MODEL);
    assert.ok(chat.messages[1]?.content.includes(QUESTION));
  });

  it("answers a sealed question through the enclave, whose attestation names the attested model", async () => {
    const provider = await create();
    const app = await EnclaveApp.create({ nsm: await SimulatedNsm.create({ imageIdentity: "attested-model" }), model: provider });
    assert.deepEqual(app.identity.model, provider.identity);
    const query: EnclaveQuery = {
      question: QUESTION,
      now: input.now,
      attestationSha256: "ab".repeat(32),
      data: { metrics: { resting_heart_rate: { unit: "bpm", start: [0], end: [0], value: [57] } } },
    };
    const sealed = await sealQuery(app.keys.publicKey, query);
    const reply = decodeMessage(await app.handle(sealed.message));
    assert.equal(reply.kind, MessageKind.ANSWER, `enclave answered ${errorCodeOf(reply.body)}`);
    assert.equal((await sealed.openAnswer(reply.body)).answer, endpoint.answer);
  });

  it("refuses to start when a measurement differs, is missing, or is not pinned", async () => {
    await refusedAtStart("WRONG_MEASUREMENTS", create({ measurements: { ...MEASUREMENTS, rtmr1: "c4".repeat(48) } }));
    endpoint.requests.length = 0;
    const { gpu_firmware: _, ...fewer } = MEASUREMENTS;
    await refusedAtStart("WRONG_MEASUREMENTS", create({ measurements: fewer }));
    endpoint.requests.length = 0;
    endpoint.tamper = (report) => ({ ...report, measurements: { ...report.measurements, rtmr3: "e5".repeat(48) } });
    await refusedAtStart("WRONG_MEASUREMENTS");
    // Names every object inherits are not pinned either.
    for (const name of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
      endpoint.requests.length = 0;
      endpoint.tamper = (report) => ({
        ...report,
        measurements: JSON.parse(`{${JSON.stringify(name)}:"${"e5".repeat(48)}",${JSON.stringify(report.measurements).slice(1)}`),
      });
      await refusedAtStart("WRONG_MEASUREMENTS");
    }
  });

  it("refuses to start when the chain ends at another root, even one with the same name", async () => {
    const other = await createAttestationPki();
    await refusedAtStart("UNTRUSTED_ROOT", create({ root: await loadModelRoot(other.root.certificate.toString("pem")) }));
  });

  it("refuses a wrong nonce, a stale report, a bad signature, another model, and a report for another TLS key", async () => {
    endpoint.tamper = (report) => ({ ...report, nonce: "00".repeat(32) });
    await refusedAtStart("WRONG_NONCE");
    endpoint.requests.length = 0;
    endpoint.tamper = (report) => ({ ...report, timestamp: new Date(Date.now() - 5 * 60_000).toISOString() });
    await refusedAtStart("STALE");
    endpoint.requests.length = 0;
    endpoint.tamper = undefined;
    endpoint.corruptSignature = true;
    await refusedAtStart("BAD_SIGNATURE");
    endpoint.requests.length = 0;
    endpoint.corruptSignature = false;
    await refusedAtStart("WRONG_MODEL", create({ model: "another-model" }));
    endpoint.requests.length = 0;
    endpoint.tamper = (report) => ({ ...report, tlsSpkiSha256: "ab".repeat(32) });
    await refusedAtStart("TLS_KEY_NOT_ATTESTED");
  });

  it("refuses an attestation response larger than 64 KiB without reading it all", async () => {
    endpoint.tamper = (report) => ({ ...report, padding: "x".repeat(70_000) }) as typeof report;
    await assert.rejects(create(), (error: unknown) => error instanceof ModelError && /too large/.test(error.message));
    assert.deepEqual(paths(endpoint), ["GET /v1/attestation"]);
  });

  it("refuses plain http and an endpoint whose TLS certificate it cannot verify", async () => {
    await assert.rejects(
      AttestedOpenAiProvider.create({
        baseUrl: endpoint.baseUrl.replace("https:", "http:"),
        model: MODEL,
        root: endpoint.root,
        measurements: MEASUREMENTS,
      }),
      /https/,
    );
    await assert.rejects(
      AttestedOpenAiProvider.create({ baseUrl: endpoint.baseUrl, model: MODEL, root: endpoint.root, measurements: MEASUREMENTS }),
      (error: unknown) => error instanceof ModelError && /attestation connection failed/.test(error.message),
    );
    // The TLS handshake failed, so not even the attestation request was sent.
    assert.deepEqual(paths(endpoint), []);
  });

  it("re-attests a new TLS key before sending the question over it", async () => {
    const provider = await create();
    const first = endpoint.spkiSha256();
    await endpoint.rotateTlsKey();
    const answer = await provider.answer(input);
    assert.equal(answer.answer, endpoint.answer);
    assert.deepEqual(paths(endpoint), ["GET /v1/attestation", "GET /v1/attestation", "POST /v1/chat/completions"]);
    assert.deepEqual(provider.attestedKeys, [first, endpoint.spkiSha256()]);
    assert.deepEqual(
      events.map((event) => event.reason),
      ["start", "key-change"],
    );
  });

  it("never sends the question over a TLS key no report names, and the enclave answers MODEL_FAILED", async () => {
    const impostor = await startAttestedEndpoint();
    try {
      const provider = await AttestedOpenAiProvider.create({
        baseUrl: impostor.baseUrl,
        model: MODEL,
        root: impostor.root,
        measurements: MEASUREMENTS,
        tlsCa: impostor.tlsCaPem,
      });
      // A relay now terminates TLS with a key of its own and forwards genuine reports.
      await impostor.impersonate();
      await assert.rejects(provider.answer(input), (error: unknown) => {
        assert.ok(error instanceof ModelError);
        assert.ok(!error.message.includes(QUESTION));
        return true;
      });
      const app = await EnclaveApp.create({
        nsm: await SimulatedNsm.create({ imageIdentity: "attested-model" }),
        model: provider,
      });
      const sealed = await sealQuery(app.keys.publicKey, {
        question: QUESTION,
        now: input.now,
        attestationSha256: "ab".repeat(32),
        data: { metrics: { steps: { unit: "count", start: [0], end: [0], value: [8412] } } },
      });
      const reply = decodeMessage(await app.handle(sealed.message));
      assert.equal(reply.kind, MessageKind.ERROR);
      assert.equal(errorCodeOf(reply.body), "MODEL_FAILED");
      // Only attestation requests ever reached the endpoint: one at start, one per refused question.
      assert.deepEqual(
        impostor.requests.map((request) => `${request.method} ${request.path}`),
        ["GET /v1/attestation", "GET /v1/attestation", "GET /v1/attestation"],
      );
      assert.ok(impostor.requests.every((request) => request.body === ""));
    } finally {
      await impostor.close();
    }
  });
});

describe("verifyRemoteAttestation on hostile input", () => {
  it("refuses malformed bodies as MALFORMED without throwing anything else", async () => {
    const { root } = await startAttestedEndpoint().then(async (endpoint) => {
      await endpoint.close();
      return endpoint;
    });
    const expected = { root, measurements: MEASUREMENTS, model: MODEL, nonce: "ab".repeat(32), now: new Date() };
    const bodies = [
      "",
      "null",
      "[]",
      "{",
      JSON.stringify({ format: "other/v1" }),
      JSON.stringify({ format: "pulse-remote-attestation/v1", report: "a+b", signature: "AA", certificates: ["AA=="] }),
      JSON.stringify({ format: "pulse-remote-attestation/v1", report: "AA", signature: "AA", certificates: [] }),
      JSON.stringify({
        format: "pulse-remote-attestation/v1",
        report: "AA",
        signature: "AA",
        certificates: Array(6).fill("AA=="),
      }),
    ];
    for (const body of bodies) {
      await assert.rejects(verifyRemoteAttestation(body, expected), (error: unknown) => {
        assert.ok(error instanceof RemoteAttestationError, `${body}: ${String(error)}`);
        assert.equal(error.reason, "MALFORMED", body);
        return true;
      });
    }
    const garbageCertificate = JSON.stringify({
      format: "pulse-remote-attestation/v1",
      report: "AA",
      signature: "AA",
      certificates: ["MIIBAAAA"],
    });
    await assert.rejects(verifyRemoteAttestation(garbageCertificate, expected), { reason: "BAD_CHAIN" });
  });

  it("reads a measurements file strictly", () => {
    assert.deepEqual(parseMeasurements(JSON.stringify({ MRTD: "AB".repeat(48) })), { MRTD: "ab".repeat(48) });
    for (const text of ["", "[]", "{}", '{"mrtd": 1}', '{"mrtd": "abc"}', '{"a b": "ab"}', `{"mrtd": "${"ab".repeat(65)}"}`]) {
      assert.throws(() => parseMeasurements(text), TypeError, text);
    }
  });
});
