import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput, StoreAuditContext } from "../../durable-objects/health-store/schema";
import type { SleepSessionInput } from "../../durable-objects/health-store/session-schema";
import { decodeEnclaveIdentity } from "../../enclave-bridge/src/identity.ts";
import { type EnclaveQuery, sha256Hex } from "../../enclave-bridge/src/protocol.ts";
import { type AnswerReceipt, signReceipt } from "../../enclave-bridge/src/receipt.ts";
import { verifyAnswerReceipt } from "../../sdk/client/receipt";
import { loadPinnedRoot, verifyAttestation } from "../../src/ai/attestation";
import { checkAnswerReceipt } from "../../src/ai/receipt";
import { DomainError } from "../../src/errors/domain-error";
import type { EnclaveBridgeFixture } from "../support/enclave-bridge-fixture";
import { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from "./helpers/nitro-fixtures";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * /v1/ai/*: the Worker in workerd calls the real enclave-bridge (enclave application with the
 * simulated NSM and the built-in analyst, behind the parent proxy, over TCP) started by
 * test/support/enclave-bridge.global.ts. Nothing is mocked between the route and the analyst.
 */
const app = createTestApp();
const bridge: EnclaveBridgeFixture = inject("enclaveBridge");
const DAY = 86_400_000;
const QUESTION = "What was my average resting heart rate last week?";

function bindings(overrides: Record<string, string> = {}): Partial<Env> {
  return {
    ENCLAVE_BRIDGE_URL: bridge.url,
    ENCLAVE_BRIDGE_TOKEN: bridge.token,
    ENCLAVE_PCR0: bridge.pcrs[0],
    ENCLAVE_PCR1: bridge.pcrs[1],
    ENCLAVE_PCR2: bridge.pcrs[2],
    ENCLAVE_ROOT_CERTIFICATE: bridge.rootCertificate,
    ENCLAVE_ROOT_SHA256: bridge.rootSha256,
    ...overrides,
  } as Partial<Env>;
}

function ask(user: SessionUser, body: unknown, overrides: Record<string, string> = {}): Promise<Response> {
  return call(
    app,
    "/v1/ai/query",
    {
      method: "POST",
      headers: { ...user.headers, "Content-Type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    },
    bindings(overrides),
  );
}

function attestation(user: SessionUser, overrides: Record<string, string> = {}): Promise<Response> {
  return call(app, "/v1/ai/attestation", { headers: user.headers }, bindings(overrides));
}

function system(userId: string): StoreAuditContext {
  return { actor: "etl", role: "system", subject: userId, reason: null, requestId: null, ip: null };
}

function reading(metric: string, unit: string, start: number, value: number, flagged = false): ObservationInput {
  return observationInput(metric, unit, start, value, { flagged });
}

/** Six resting heart rates in the last week (mean 57.67), one older, one flagged; heart rate too. */
async function userWithData(): Promise<SessionUser> {
  const user = await createSessionUser();
  const now = Date.now();
  const restingHours = [26, 50, 74, 98, 122, 146];
  const observations = [
    ...[56, 58, 57, 60, 55, 60].map((value, index) =>
      reading("resting_heart_rate", "bpm", now - (restingHours[index] ?? 0) * 3_600_000, value),
    ),
    reading("resting_heart_rate", "bpm", now - 20 * DAY, 90),
    reading("resting_heart_rate", "bpm", now - 3 * DAY + 600_000, 200, true),
    reading("heart_rate", "bpm", now - 2 * DAY, 71),
  ];
  const night = now - 2 * DAY;
  const sleep: SleepSessionInput = {
    sourceKind: "upload",
    sourceApp: "com.example.health",
    sourceRecordId: "night",
    version: 1,
    start: night,
    end: night + 8 * 3_600_000,
    localDate: new Date(night).toISOString().slice(0, 10),
    stages: [
      { stage: "light", start: night, end: night + 3 * 3_600_000 },
      { stage: "deep", start: night + 3 * 3_600_000, end: night + 5 * 3_600_000 },
      { stage: "rem", start: night + 5 * 3_600_000, end: night + 8 * 3_600_000 },
    ],
  };
  await healthStoreFor(env.HEALTH_STORE, user.user.id).ingestBatch(
    { observations, sleepSessions: [sleep], workouts: [] },
    system(user.user.id),
  );
  return user;
}

async function aiEvents(userId: string, action = "ai.query") {
  const page = await healthStoreFor(env.HEALTH_STORE, userId).accessLog({ limit: 100 });
  return page.items.filter((event) => event.action === action);
}

type Receipt = AnswerReceipt & { attestationDocument: string; sha256: string };

describe("GET /v1/ai/attestation", () => {
  it("returns a fresh document from the enclave and what was verified in it", async () => {
    const user = await createSessionUser();
    const res = await attestation(user);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toContain("no-store");
    const body = await res.json<{
      document: string;
      verifiedAt: string;
      verified: {
        pcrs: Record<string, string>;
        nonce: string;
        publicKey: string;
        certificateChain: string[];
        rootSha256: string;
        debugMode: boolean;
        model: { id: string; kind: string; confidential: boolean };
        receiptKey: string;
      };
      hpke: { kem: string };
    }>();
    // From the document's user_data: the model that answers and the key that signs its receipts.
    expect(body.verified.model).toEqual({ id: "pulse-analyst@4", kind: "analyst", confidential: true });
    expect(body.verified.receiptKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(body.verified.pcrs).toEqual({ 0: bridge.pcrs[0], 1: bridge.pcrs[1], 2: bridge.pcrs[2] });
    expect(atob(body.verified.nonce)).toHaveLength(32);
    expect(atob(body.verified.publicKey)).toHaveLength(32);
    expect(body.verified.certificateChain).toHaveLength(3);
    expect(body.verified.rootSha256).toBe(bridge.rootSha256);
    expect(body.verified.debugMode).toBe(false);
    expect(body.hpke.kem).toBe("DHKEM(X25519, HKDF-SHA256)");
    // Each call carries its own nonce.
    const again = await (await attestation(user)).json<{ verified: { nonce: string } }>();
    expect(again.verified.nonce).not.toBe(body.verified.nonce);
  });

  it("refuses an enclave whose image differs from the pinned PCRs, or whose chain is not the pinned root (502)", async () => {
    const user = await createSessionUser();
    const wrongPcr = await attestation(user, { ENCLAVE_PCR0: "ab".repeat(48) });
    await expectProblem(wrongPcr.clone(), 502, "ATTESTATION_FAILED");
    expect(await wrongPcr.json()).toMatchObject({ reason: "PCR_MISMATCH" });
    const awsRoot = await attestation(user, {
      ENCLAVE_ROOT_CERTIFICATE: AWS_NITRO_ROOT_G1_PEM,
      ENCLAVE_ROOT_SHA256: AWS_NITRO_ROOT_G1_SHA256,
    });
    await expectProblem(awsRoot.clone(), 502, "ATTESTATION_FAILED");
    expect(await awsRoot.json()).toMatchObject({ reason: "UNTRUSTED_ROOT" });
  });

  it("answers 503 when no enclave is configured or the bridge cannot be reached", async () => {
    const user = await createSessionUser();
    await expectProblem(await call(app, "/v1/ai/attestation", { headers: user.headers }), 503, "SERVICE_UNAVAILABLE");
    await expectProblem(await attestation(user, { ENCLAVE_BRIDGE_URL: "http://127.0.0.1:9" }), 503, "SERVICE_UNAVAILABLE");
    await expectProblem(await attestation(user, { ENCLAVE_BRIDGE_TOKEN: "not-the-bridge-token" }), 503, "SERVICE_UNAVAILABLE");
  });

  it("refuses what a misbehaving parent sends instead of the enclave's messages (502)", async () => {
    const user = await createSessionUser();
    const huge = await attestation(user, { ENCLAVE_BRIDGE_URL: `${bridge.hostileUrl}/huge` });
    await expectProblem(huge.clone(), 502, "ENCLAVE_FAILED");
    expect(await huge.json()).toMatchObject({ reason: "BAD_MESSAGE" });
    const garbage = await attestation(user, { ENCLAVE_BRIDGE_URL: `${bridge.hostileUrl}/garbage` });
    await expectProblem(garbage.clone(), 502, "ATTESTATION_FAILED");
    expect(await garbage.json()).toMatchObject({ reason: "BAD_ENCODING" });
  });

  it("treats a pinned root that does not match its fingerprint as a configuration error (500)", async () => {
    const user = await createSessionUser();
    await expectProblem(await attestation(user, { ENCLAVE_ROOT_SHA256: "00".repeat(32) }), 500, "INTERNAL");
    await expectProblem(await attestation(user, { ENCLAVE_ROOT_CERTIFICATE: "bm90IGEgY2VydGlmaWNhdGU=" }), 500, "INTERNAL");
  });

  it("refuses a production deployment that pins anything but the AWS root, as a configuration error", async () => {
    const user = await createSessionUser();
    const res = await attestation(user, { ENVIRONMENT: "production", ENCLAVE_BRIDGE_URL: "https://enclave.example.com" });
    await expectProblem(res, 500, "INTERNAL");
  });
});

describe("POST /v1/ai/query", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("answers inside the enclave from only the data the question needs, and audits the categories read", async () => {
    const user = await userWithData();
    const res = await ask(user, { question: QUESTION });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toContain("no-store");
    const body = await res.json<{
      answer: string;
      usedMetrics: string[];
      figures: { value: number; unit: string }[];
      period: { since: string; until: string };
      attestation: { pcr0: string; verifiedAt: string };
      model: { id: string; kind: string; confidential: boolean };
      notice?: string;
    }>();
    expect(body.answer).toContain("57.7 bpm");
    expect(body.model).toEqual({ id: "pulse-analyst@4", kind: "analyst", confidential: true });
    expect(body.notice).toBeUndefined();
    expect(body.usedMetrics).toEqual(["resting_heart_rate"]);
    expect(body.figures).toContainEqual(expect.objectContaining({ value: 57.7, unit: "bpm" }));
    expect(body.attestation.pcr0).toBe(bridge.pcrs[0]);
    expect(Date.parse(body.period.until) - Date.parse(body.period.since)).toBe(7 * DAY);

    const events = await aiEvents(user.user.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: user.user.id,
      result: "success",
      resource: expect.stringMatching(/^ai;p=[^;]+;m=resting_heart_rate$/),
    });
    expect(JSON.stringify(events)).not.toMatch(/average|57\.7/);
  });

  it("returns a receipt that verifies offline against the pinned root and PCRs, and logs its hash with the read", async () => {
    const user = await userWithData();
    const res = await ask(user, { question: `  ${QUESTION} ` });
    expect(res.status).toBe(200);
    const body = await res.json<{ answer: string; model: unknown; receipt: Receipt }>();
    const pins = { root: atob(bridge.rootCertificate), rootSha256: bridge.rootSha256, pcrs: bridge.pcrs };
    const rootDer = Uint8Array.from(pins.root, (c) => c.charCodeAt(0));
    // The SDK's check, as a person would run it on the saved answer; the question as the API read it (trimmed).
    const verified = await verifyAnswerReceipt(body, { ...pins, root: rootDer, question: QUESTION });
    expect(verified).toMatchObject({ ok: true, model: body.model, receiptSha256: body.receipt.sha256, questionChecked: true });
    expect(body.receipt.payload.pcrs).toEqual(bridge.pcrs);
    expect(body.receipt.payload.model).toEqual(body.model);
    expect(Math.abs(Date.parse(body.receipt.payload.time) - Date.now())).toBeLessThan(5 * 60_000);
    // The document is the one the Worker verified: its hash is in the receipt, and it verifies.
    const document = Uint8Array.from(atob(body.receipt.attestationDocument), (c) => c.charCodeAt(0));
    expect(body.receipt.payload.attestationSha256).toBe(await sha256Hex(document));
    const root = await loadPinnedRoot(rootDer, bridge.rootSha256);
    const attested = await verifyAttestation(document, { root, expectedPcrs: bridge.pcrs, maxAgeMs: 3_600_000, now: new Date() });
    expect(attested.ok).toBe(true);
    // Another question, or a changed answer, does not verify.
    expect(await verifyAnswerReceipt(body, { ...pins, root: rootDer, question: "What was my step count?" })).toMatchObject({
      ok: false,
      check: "question",
    });
    expect(
      await verifyAnswerReceipt({ ...body, answer: body.answer.replace("57.7", "75.7") }, { ...pins, root: rootDer }),
    ).toMatchObject({
      ok: false,
      check: "answer",
    });

    // The access log: the read (ai.query), then the answer with the receipt's hash, same request id.
    const [read] = await aiEvents(user.user.id);
    const [answered] = await aiEvents(user.user.id, "ai.answer");
    expect(answered).toMatchObject({ result: "success", resource: `receipt;id=${body.receipt.sha256}`, actor: user.user.id });
    expect(answered?.requestId).toBe(read?.requestId);
    expect(answered?.seq).toBeGreaterThan(read?.seq ?? Number.POSITIVE_INFINITY);
    const log = await call(app, "/v1/me/access-log", { headers: user.headers }, bindings());
    const items = (
      await log.json<{ items: { action: string; description: string; receipt?: string; who: { label: string } }[] }>()
    ).items;
    const item = items.find((entry) => entry.action === "ai.answer");
    expect(item).toMatchObject({
      receipt: body.receipt.sha256,
      who: { label: "analyst in the enclave" },
      description: `Answered your question inside the attested enclave, with a signed receipt (SHA-256 ${body.receipt.sha256.slice(0, 16)}…)`,
    });
    expect(items.find((entry) => entry.action === "ai.query")?.receipt).toBeUndefined();
  });

  it("refuses an answer whose receipt does not verify: 502 ENCLAVE_FAILED, reason BAD_RECEIPT", async () => {
    // A sealed answer cannot be rewritten on the way (the HPKE context seals it), so the Worker's
    // check is driven directly with the receipt of a real answer and one thing changed at a time.
    const user = await userWithData();
    const body = await (await ask(user, { question: QUESTION })).json<{
      answer: string;
      usedMetrics: string[];
      figures: { label: string; value: number; unit: string }[];
      receipt: Receipt;
    }>();
    const document = Uint8Array.from(atob(body.receipt.attestationDocument), (c) => c.charCodeAt(0));
    const root = await loadPinnedRoot(
      Uint8Array.from(atob(bridge.rootCertificate), (c) => c.charCodeAt(0)),
      bridge.rootSha256,
    );
    const attested = await verifyAttestation(document, { root, maxAgeMs: 3_600_000, now: new Date() });
    if (!attested.ok) throw new Error(attested.detail);
    const identity = decodeEnclaveIdentity(attested.attestation.userData);
    if (identity === null) throw new Error("no identity");
    // The data as the Worker sent it is not in the answer: read back from the store what it read.
    const since = Date.now() - 7 * DAY - 60_000;
    const dataset = await healthStoreFor(env.HEALTH_STORE, user.user.id).analysisDataset(
      { metrics: ["resting_heart_rate"], sleep: false, since, until: Date.now(), maxPointsPerMetric: 50_000 },
      system(user.user.id),
    );
    const query: EnclaveQuery = {
      question: QUESTION,
      // The instant the Worker read "last week" from, as it sent it (the receipt signs it).
      now: body.receipt.payload.asOf,
      attestationSha256: await sha256Hex(document),
      data: dataset,
    };
    const answer = { answer: body.answer, usedMetrics: body.usedMetrics, figures: body.figures };
    const receipt = { payload: body.receipt.payload, signature: body.receipt.signature };
    const context = { query, identity, pcrs: bridge.pcrs, now: new Date() };
    const forger = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const cases: [string, Parameters<typeof checkAnswerReceipt>[0], Partial<typeof context>][] = [
      ["no receipt", { ...answer }, {}],
      ["another answer", { ...answer, answer: `${answer.answer}.`, receipt }, {}],
      ["another question", { ...answer, receipt }, { query: { ...query, question: `${QUESTION}?` } }],
      ["other pinned PCRs", { ...answer, receipt }, { pcrs: { ...bridge.pcrs, 0: "ab".repeat(48) } }],
      ["another document", { ...answer, receipt }, { query: { ...query, attestationSha256: "cd".repeat(32) } }],
      ["other data", { ...answer, receipt }, { query: { ...query, data: { metrics: {} } } }],
      ["another instant", { ...answer, receipt }, { query: { ...query, now: new Date(Date.now() - DAY).toISOString() } }],
      ["another zone", { ...answer, receipt }, { query: { ...query, timeZone: "Europe/Paris" } }],
      [
        "another model",
        { ...answer, receipt },
        { identity: { ...identity, model: { ...identity.model, id: "pulse-analyst@1" } } },
      ],
      ["an old receipt", { ...answer, receipt }, { now: new Date(Date.now() + 10 * 60_000) }],
      ["a forged signature", { ...answer, receipt: await signReceipt(receipt.payload, forger.privateKey) }, {}],
      [
        "a bent claim",
        { ...answer, receipt: { ...receipt, payload: { ...receipt.payload, time: new Date().toISOString() } } },
        {},
      ],
    ];
    const failedCheck: Record<string, string> = {
      "no receipt": "format",
      "another answer": "answer",
      "another question": "question",
      "other pinned PCRs": "pcrs",
      "another document": "attestation",
      "other data": "data",
      "another instant": "context",
      "another zone": "context",
      "another model": "model",
      "an old receipt": "time",
      "a forged signature": "signature",
      "a bent claim": "signature",
    };
    for (const [what, sealed, override] of cases) {
      const error = await checkAnswerReceipt(sealed, { ...context, ...override }).catch((caught: unknown) => caught);
      expect(
        error instanceof DomainError ? [error.code, error.extensions.reason, error.extensions.check] : "accepted",
        what,
      ).toEqual(["ENCLAVE_FAILED", "BAD_RECEIPT", failedCheck[what]]);
    }
    // The unchanged receipt, against everything as sent, passes the same check.
    const passed = await checkAnswerReceipt({ ...answer, receipt }, context);
    expect(passed.sha256).toBe(body.receipt.sha256);
  });

  it("sends sleep when the question is about sleep", async () => {
    const user = await userWithData();
    const body = await (await ask(user, { question: "How much deep sleep did I get in the last 7 days?" })).json<{
      answer: string;
      usedMetrics: string[];
    }>();
    expect(body.usedMetrics).toContain("sleep");
    expect(body.answer).toMatch(/deep/i);
    expect((await aiEvents(user.user.id))[0]?.resource).toMatch(/^ai;p=[^;]+;m=sleep$/);
  });

  it("never writes the question or the answer to any log", async () => {
    const user = await userWithData();
    const lines: string[] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join(" "));
      });
    }
    const res = await ask(user, { question: QUESTION });
    const { answer } = await res.json<{ answer: string }>();
    expect(lines.length).toBeGreaterThan(0); // the access log line
    const logged = lines.join("\n");
    expect(logged).not.toContain("resting heart rate");
    expect(logged).not.toContain(answer);
    expect(logged).not.toContain("57.7");
  });

  it("answers from the asker's own data only", async () => {
    await userWithData();
    const stranger = await createSessionUser();
    const body = await (await ask(stranger, { question: QUESTION })).json<{ answer: string }>();
    expect(body.answer).toMatch(/no resting heart rate data/i);
  });

  it("keeps to since/until when given, and reuses the verified attestation until its TTL", async () => {
    const user = await userWithData();
    const now = Date.now();
    const window = { since: new Date(now - 30 * DAY).toISOString(), until: new Date(now).toISOString() };
    const first = await (await ask(user, { question: "What was my highest resting heart rate?", ...window })).json<{
      answer: string;
      period: typeof window;
      attestation: { verifiedAt: string };
    }>();
    expect(first.answer).toContain("90");
    expect(first.period).toEqual(window);
    const second = await (await ask(user, { question: QUESTION })).json<{ attestation: { verifiedAt: string } }>();
    expect(second.attestation.verifiedAt).toBe(first.attestation.verifiedAt);
    const uncached = await (await ask(user, { question: QUESTION }, { ENCLAVE_ATTESTATION_TTL_SECONDS: "0" })).json<{
      attestation: { verifiedAt: string };
    }>();
    expect(uncached.attestation.verifiedAt).not.toBe(first.attestation.verifiedAt);
    // Bounds wider than the question's own period, or "until now" by the client's clock, are kept.
    const wider = await ask(user, { question: QUESTION, ...window });
    expect(wider.status).toBe(200);
    expect((await wider.json<{ period: typeof window }>()).period).toEqual(window);
    const untilNow = await ask(user, { question: QUESTION, until: new Date(Date.now() - 1_000).toISOString() });
    expect(untilNow.status).toBe(200);
  });

  it("re-attests once and answers when the enclave restarted with a new key since it was cached", async () => {
    const user = await userWithData();
    const restartable = { ENCLAVE_BRIDGE_URL: bridge.restartableUrl };
    const before = await (await ask(user, { question: QUESTION }, restartable)).json<{ attestation: { verifiedAt: string } }>();
    expect((await fetch(bridge.restartUrl, { method: "POST" })).status).toBe(204);
    const res = await ask(user, { question: QUESTION }, restartable);
    expect(res.status).toBe(200);
    const after = await res.json<{ answer: string; attestation: { verifiedAt: string } }>();
    expect(after.answer).toContain("57.7 bpm");
    expect(after.attestation.verifiedAt).not.toBe(before.attestation.verifiedAt);
  });

  it("reads nothing when the enclave's attestation is refused", async () => {
    const user = await userWithData();
    const res = await ask(user, { question: QUESTION }, { ENCLAVE_PCR2: "cd".repeat(48), ENCLAVE_ATTESTATION_TTL_SECONDS: "0" });
    await expectProblem(res, 502, "ATTESTATION_FAILED");
    expect(await aiEvents(user.user.id)).toHaveLength(0);
    expect(await aiEvents(user.user.id, "ai.answer")).toHaveLength(0);
  });

  it("keeps the read in the access log, and records that no answer came, when the enclave fails after the read", async () => {
    const user = await userWithData();
    // Attested and cached through the real bridge, then the bridge disappears before the answer.
    await ask(user, { question: QUESTION }, { ENCLAVE_BRIDGE_URL: bridge.restartableUrl });
    const res = await ask(
      user,
      { question: QUESTION },
      { ENCLAVE_BRIDGE_URL: bridge.restartableUrl, ENCLAVE_BRIDGE_TOKEN: "wrong-token-0123456789abcdef" },
    );
    await expectProblem(res, 503, "SERVICE_UNAVAILABLE");
    const reads = await aiEvents(user.user.id);
    const answers = await aiEvents(user.user.id, "ai.answer");
    expect(reads).toHaveLength(2);
    expect(answers.map((event) => [event.result, event.resource])).toEqual([
      ["failure", "receipt"],
      ["success", expect.stringMatching(/^receipt;id=[0-9a-f]{64}$/)],
    ]);
    expect(answers[0]?.requestId).toBe(reads[0]?.requestId);
  });

  it("answers 503 with Retry-After when the enclave is busy, and logs that no answer came of the read", async () => {
    const user = await userWithData();
    const res = await ask(user, { question: QUESTION }, { ENCLAVE_BRIDGE_URL: bridge.busyUrl });
    await expectProblem(res, 503, "SERVICE_UNAVAILABLE");
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(await aiEvents(user.user.id)).toHaveLength(1);
    expect((await aiEvents(user.user.id, "ai.answer")).map((event) => [event.result, event.resource])).toEqual([
      ["failure", "receipt"],
    ]);
  });

  it("refuses bad input with 4xx problems", async () => {
    const user = await createSessionUser();
    const cases: [unknown, number, string][] = [
      [{ question: "" }, 400, "VALIDATION_FAILED"],
      [{ question: "   " }, 400, "VALIDATION_FAILED"],
      [{ question: "x".repeat(1_001) }, 400, "VALIDATION_FAILED"],
      [{ question: QUESTION, extra: true }, 400, "VALIDATION_FAILED"],
      [{ question: 42 }, 400, "VALIDATION_FAILED"],
      [{ question: QUESTION, since: "yesterday" }, 400, "VALIDATION_FAILED"],
      [{ question: QUESTION, since: "2026-02-01T00:00:00Z", until: "2026-01-01T00:00:00Z" }, 400, "VALIDATION_FAILED"],
      [{ question: QUESTION, since: "2020-01-01T00:00:00Z", until: "2026-01-01T00:00:00Z" }, 400, "VALIDATION_FAILED"],
      ['{"question": "truncated', 400, "MALFORMED_JSON"],
    ];
    for (const [body, status, code] of cases) await expectProblem(await ask(user, body), status, code);
    // Bounds that cut into the period the question names would make "in the last 7 days" a lie.
    const now = Date.now();
    for (const bounds of [
      { since: new Date(now - 3 * DAY).toISOString() },
      { until: new Date(now - 3 * DAY).toISOString() },
      { since: new Date(now - 30 * DAY).toISOString(), until: new Date(now - DAY).toISOString() },
    ]) {
      const res = await ask(user, { question: QUESTION, ...bounds });
      await expectProblem(res, 400, "VALIDATION_FAILED");
    }
    const form = await call(app, "/v1/ai/query", { method: "POST", headers: user.headers, body: "question=hi" }, bindings());
    await expectProblem(form, 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(await aiEvents(user.user.id)).toHaveLength(0);
  });
});
