// Answer receipts: the real enclave application signs one for every answer with the key its
// attestation document names; verification fails when any claim, the answer, the signature or the
// expected values differ.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeCbor } from "../src/cbor.ts";
import { EnclaveApp } from "../src/enclave/app.ts";
import { decodeEnclaveIdentity, fromBase64url } from "../src/identity.ts";
import { AnalystProvider } from "../src/model/analyst-provider.ts";
import { SimulatedNsm } from "../src/nsm/simulated-nsm.ts";
import {
  attestRequest,
  decodeMessage,
  type EnclaveQuery,
  errorCodeOf,
  MessageKind,
  type SealedAnswer,
  sealQuery,
  sha256Hex,
} from "../src/protocol.ts";
import {
  type AnswerReceipt,
  answerDigest,
  dataDigest,
  parseReceipt,
  type ReceiptClaims,
  type ReceiptExpectations,
  receiptSha256,
  signReceipt,
  verifyReceipt,
} from "../src/receipt.ts";

const NOW = "2026-11-23T12:00:00.000Z";
const DAY = 86_400_000;
const nowMs = Date.parse(NOW);
const QUESTION = "What was my average resting heart rate last week?";

function queryFor(attestationSha256: string | undefined): EnclaveQuery {
  const days = [1, 2, 3, 4, 5, 6];
  return {
    question: QUESTION,
    now: NOW,
    ...(attestationSha256 === undefined ? {} : { attestationSha256 }),
    data: {
      metrics: {
        resting_heart_rate: {
          unit: "bpm",
          start: days.map((d) => nowMs - d * DAY),
          end: days.map((d) => nowMs - d * DAY),
          value: [56, 58, 57, 60, 55, 60],
        },
      },
    },
  };
}

interface Answered {
  answer: SealedAnswer;
  query: EnclaveQuery;
  document: Uint8Array;
  expected: ReceiptExpectations;
}

/** Attests the real enclave application, seals a question to it, opens its answer. */
async function answered(change: (query: EnclaveQuery) => EnclaveQuery = (query) => query): Promise<Answered> {
  const nsm = await SimulatedNsm.create({ imageIdentity: "receipt-test" });
  const app = await EnclaveApp.create({ nsm, model: new AnalystProvider(), clock: () => new Date(nowMs + 1_000) });
  const attestation = decodeMessage(await app.handle(attestRequest(crypto.getRandomValues(new Uint8Array(32)))));
  assert.equal(attestation.kind, MessageKind.ATTESTATION);
  const document = attestation.body.slice();
  const [, , payload] = decodeCbor(document) as [Uint8Array, unknown, Uint8Array, Uint8Array];
  const fields = decodeCbor(payload) as Map<string, unknown>;
  const identity = decodeEnclaveIdentity(fields.get("user_data") as Uint8Array);
  assert.ok(identity !== null);
  const query = change(queryFor(await sha256Hex(document)));
  const sealed = await sealQuery(fields.get("public_key") as Uint8Array, query);
  const reply = decodeMessage(await app.handle(sealed.message));
  assert.equal(reply.kind, MessageKind.ANSWER, `enclave answered ${errorCodeOf(reply.body)}`);
  const answer = await sealed.openAnswer(reply.body);
  return {
    answer,
    query,
    document,
    expected: {
      receiptKey: identity.receiptKey,
      attestationSha256: query.attestationSha256 ?? "",
      pcrs: await nsm.describePcrs(),
      model: identity.model,
      question: query.question,
      context: { asOf: new Date(query.now).toISOString(), timeZone: query.timeZone ?? "UTC" },
      data: query.data,
      answer: { answer: answer.answer, usedMetrics: answer.usedMetrics, figures: answer.figures },
      now: new Date(nowMs),
    },
  };
}

const { answer, expected } = await answered();
const receipt = answer.receipt as AnswerReceipt;

describe("the enclave's receipt", () => {
  it("comes with every answer and verifies under the key the attestation document names", async () => {
    assert.match(answer.answer, /57\.7 bpm/);
    const result = await verifyReceipt(answer.receipt, expected);
    assert.ok(result.ok, result.ok ? "" : `${result.check}: ${result.detail}`);
    assert.deepEqual(result.checked, [
      "format",
      "signature",
      "attestation",
      "pcrs",
      "model",
      "question",
      "context",
      "data",
      "answer",
      "time",
    ]);
    assert.equal(result.sha256, await receiptSha256(receipt));
    assert.equal(receipt.payload.time, new Date(nowMs + 1_000).toISOString());
    assert.equal(receipt.payload.asOf, NOW);
    assert.equal(receipt.payload.timeZone, "UTC");
    assert.deepEqual(receipt.payload.model, { id: "pulse-analyst@4", kind: "analyst", confidential: true });
    assert.equal(receipt.payload.attestationSha256, expected.attestationSha256);
    assert.equal(receipt.payload.dataSha256, await dataDigest(expected.data ?? { metrics: {} }));
    assert.equal(fromBase64url(receipt.signature).byteLength, 64);
  });

  it("says nothing of the question, the data or the answer but their digests", () => {
    const text = JSON.stringify(receipt);
    for (const plain of ["resting", "57.7", "bpm", "heart"]) assert.ok(!text.includes(plain), plain);
  });

  it("fails when any claim is changed, even with a valid shape", async () => {
    const flip = (hex: string) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
    const claims = receipt.payload;
    const tampered: ReceiptClaims[] = [
      { ...claims, questionSha256: flip(claims.questionSha256) },
      { ...claims, dataSha256: flip(claims.dataSha256) },
      { ...claims, answerSha256: flip(claims.answerSha256) },
      { ...claims, attestationSha256: flip(claims.attestationSha256) },
      { ...claims, pcrs: { ...claims.pcrs, 0: flip(claims.pcrs[0]) } },
      { ...claims, pcrs: { ...claims.pcrs, 2: flip(claims.pcrs[2]) } },
      { ...claims, model: { ...claims.model, id: "pulse-analyst@1" } },
      { ...claims, time: new Date(nowMs + 2_000).toISOString() },
      // What "last week" meant: another instant or zone is another question.
      { ...claims, asOf: new Date(nowMs - 86_400_000).toISOString() },
      { ...claims, timeZone: "Pacific/Kiritimati" },
    ];
    for (const payload of tampered) {
      const result = await verifyReceipt({ payload, signature: receipt.signature }, expected);
      assert.deepEqual(result.ok ? "accepted" : result.check, "signature", JSON.stringify(payload));
    }
  });

  it("fails on a changed signature, another key, or something that is not a receipt", async () => {
    const signature = fromBase64url(receipt.signature);
    signature[10] = (signature[10] ?? 0) ^ 0x01;
    const other = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const otherKey = Buffer.from(await crypto.subtle.exportKey("raw", other.publicKey)).toString("base64url");
    const cases: [unknown, ReceiptExpectations, string][] = [
      [{ ...receipt, signature: Buffer.from(signature).toString("base64url") }, expected, "signature"],
      [receipt, { ...expected, receiptKey: otherKey }, "signature"],
      [receipt, { ...expected, receiptKey: "A".repeat(87) }, "signature"],
      [await signReceipt(receipt.payload, other.privateKey), expected, "signature"],
      [undefined, expected, "format"],
      [{ payload: receipt.payload }, expected, "format"],
      [{ ...receipt, extra: 1 }, expected, "format"],
      [{ ...receipt, payload: { ...receipt.payload, v: 1 } }, expected, "format"],
      [{ ...receipt, payload: { ...receipt.payload, v: 3 } }, expected, "format"],
      [{ ...receipt, payload: { ...receipt.payload, timeZone: "Mars/Olympus" } }, expected, "format"],
      [{ ...receipt, payload: { ...receipt.payload, asOf: "2026-11-23T12:00:00Z" } }, expected, "format"],
      [{ ...receipt, payload: { ...receipt.payload, note: "x" } }, expected, "format"],
      [{ ...receipt, payload: { ...receipt.payload, time: "2026-11-23T12:00:01Z" } }, expected, "format"],
      [{ ...receipt, payload: { ...receipt.payload, questionSha256: "AB".repeat(32) } }, expected, "format"],
      [{ ...receipt, signature: `${receipt.signature}AA` }, expected, "format"],
      ["x".repeat(100_000), expected, "format"],
    ];
    for (const [value, expectations, check] of cases) {
      const result = await verifyReceipt(value, expectations);
      assert.equal(result.ok ? "accepted" : result.check, check);
    }
  });

  it("fails when what the verifier knows differs from what was signed", async () => {
    const answerText = { ...(expected.answer ?? answer), answer: `${answer.answer} ` };
    const figures = (expected.answer ?? answer).figures.map((figure) => ({ ...figure, value: figure.value + 0.1 }));
    const data = structuredClone(expected.data ?? { metrics: {} });
    const series = data.metrics.resting_heart_rate;
    assert.ok(series !== undefined);
    series.value[0] = 57;
    const cases: [Partial<ReceiptExpectations>, string][] = [
      [{ attestationSha256: "cd".repeat(32) }, "attestation"],
      [{ pcrs: { ...(expected.pcrs ?? { 0: "", 1: "", 2: "" }), 1: "ef".repeat(48) } }, "pcrs"],
      [{ model: { id: "pulse-analyst@4", kind: "remote", confidential: false } }, "model"],
      [{ question: `${QUESTION}?` }, "question"],
      [{ context: { asOf: new Date(nowMs - 86_400_000).toISOString(), timeZone: "UTC" } }, "context"],
      [{ context: { asOf: NOW, timeZone: "America/Los_Angeles" } }, "context"],
      [{ data }, "data"],
      [{ answer: answerText }, "answer"],
      [{ answer: { ...answerText, answer: answer.answer, figures } }, "answer"],
      [{ answer: { ...answerText, answer: answer.answer, usedMetrics: ["heart_rate"] } }, "answer"],
      [{ now: new Date(nowMs + 10 * 60_000) }, "time"],
      [{ now: undefined, notBefore: new Date(nowMs + 10 * 60_000) }, "time"],
    ];
    for (const [override, check] of cases) {
      const result = await verifyReceipt(receipt, { ...expected, ...override });
      assert.equal(result.ok ? "accepted" : result.check, check, JSON.stringify(override).slice(0, 80));
    }
  });

  it("digests the data the enclave reads, not fields it ignores, and answers by content", async () => {
    const data = expected.data ?? { metrics: {} };
    const withExtra = {
      metrics: Object.fromEntries(Object.entries(data.metrics).map(([code, s]) => [code, { ...s, resolution: "sample" }])),
    };
    assert.equal(await dataDigest(withExtra), await dataDigest(data));
    const reordered = { figures: answer.figures, usedMetrics: answer.usedMetrics, answer: answer.answer };
    assert.equal(await answerDigest(reordered), receipt.payload.answerSha256);
    assert.deepEqual(parseReceipt(JSON.parse(JSON.stringify(receipt))), receipt);
  });

  it("digests a summary's narrative: a changed sentence, figure or date is other data", async () => {
    const narrative = {
      period: "week" as const,
      date: "2026-11-30",
      endDate: "2026-12-06",
      timeZone: "Europe/Paris",
      sections: [
        {
          domain: "glucose",
          title: "Glucose",
          sentences: ["Mean glucose 102 mg/dL from 2,016 CGM readings."],
          figures: [{ code: "mean_glucose", label: "Mean glucose", value: 102, unit: "mg/dL" }],
        },
      ],
      noData: ["body"],
    };
    const summary = { metrics: {}, narrative };
    const digest = await dataDigest(summary);
    assert.notEqual(digest, await dataDigest({ metrics: {} }));
    // Fields the enclave does not read leave it unchanged, as for series.
    const extra = { ...narrative, id: "nar_1", sections: narrative.sections.map((section) => ({ ...section, extra: 1 })) };
    assert.equal(await dataDigest({ metrics: {}, narrative: extra }), digest);
    const [section] = narrative.sections;
    if (section === undefined) throw new Error("no section");
    const changed = [
      { ...narrative, sections: [{ ...section, sentences: ["Mean glucose 103 mg/dL from 2,016 CGM readings."] }] },
      { ...narrative, sections: [{ ...section, figures: [{ ...section.figures[0], value: 103 }] }] },
      { ...narrative, date: "2026-11-23" },
      { ...narrative, noData: [] },
    ];
    for (const other of changed) assert.notEqual(await dataDigest({ metrics: {}, narrative: other as typeof narrative }), digest);
  });
});

describe("the enclave refuses to answer without the document to name", () => {
  it("answers BAD_QUERY to a query that does not carry the attestation document's hash", async () => {
    const nsm = await SimulatedNsm.create({ imageIdentity: "receipt-test" });
    const app = await EnclaveApp.create({ nsm, model: new AnalystProvider() });
    const sealed = await sealQuery(app.keys.publicKey, queryFor(undefined));
    const reply = decodeMessage(await app.handle(sealed.message));
    assert.equal(reply.kind, MessageKind.ERROR);
    assert.equal(errorCodeOf(reply.body), "BAD_QUERY");
  });
});

describe("what the question meant and what the answer was read from are signed too", () => {
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
  const summary = (query: EnclaveQuery): EnclaveQuery => ({
    ...query,
    question: "summarize yesterday",
    timeZone: "+13:00",
    data: { metrics: {}, narrative },
  });

  it("covers the narrative a summary is answered from: another sentence or figure is other data", async () => {
    const { answer: summarized, expected: known } = await answered(summary);
    assert.match(summarized.answer, /8,120 steps/);
    const signed = parseReceipt(summarized.receipt);
    assert.ok(signed !== null);
    assert.equal(signed.payload.timeZone, "+13:00");
    assert.equal(signed.payload.dataSha256, await dataDigest({ metrics: {}, narrative }));
    assert.notEqual(signed.payload.dataSha256, await dataDigest({ metrics: {} }));
    const ok = await verifyReceipt(summarized.receipt, known);
    assert.ok(ok.ok, ok.ok ? "" : `${ok.check}: ${ok.detail}`);
    const section = narrative.sections[0];
    const figure = section?.figures[0];
    assert.ok(section !== undefined && figure !== undefined);
    const others = [
      { ...narrative, sections: [{ ...section, sentences: ["9,120 steps in the day."] }] },
      { ...narrative, sections: [{ ...section, figures: [{ ...figure, value: 9120 }] }] },
      { ...narrative, date: "2026-11-22", endDate: "2026-11-22" },
      { ...narrative, noData: [] },
    ];
    for (const other of others) {
      const result = await verifyReceipt(summarized.receipt, { ...known, data: { metrics: {}, narrative: other } });
      assert.equal(result.ok ? "accepted" : result.check, "data", JSON.stringify(other).slice(0, 120));
    }
    // Fields the enclave does not read do not count, as for series.
    const extra = { ...narrative, sections: [{ ...section, figures: [{ ...figure, note: "x" }] }] };
    assert.equal(await dataDigest({ metrics: {}, narrative: extra }), signed.payload.dataSha256);
  });

  it("names the zone and instant it read the question in, so the same words about another day cannot pass", async () => {
    // Same question, same data: in UTC "yesterday" is Sunday 22 November, at +13:00 it is Monday the 23rd.
    const { answer: inUtc, expected: utc } = await answered((query) => ({ ...summary(query), timeZone: "UTC" }));
    assert.match(inUtc.answer, /Sunday 22 November/);
    const signed = parseReceipt(inUtc.receipt);
    assert.ok(signed !== null);
    assert.equal(signed.payload.timeZone, "UTC");
    const asked = await verifyReceipt(inUtc.receipt, { ...utc, context: { asOf: NOW, timeZone: "+13:00" } });
    assert.equal(asked.ok ? "accepted" : asked.check, "context");
  });

  it("fails a receipt for a question read as of another day than the enclave's clock", async () => {
    // The enclave answers at NOW + 1 s; a query claiming to be asked a day earlier reads "last week"
    // a day earlier. The receipt says so, and no verifier that checks the time accepts it.
    const backdated = await answered((query) => ({ ...query, now: new Date(nowMs - 86_400_000).toISOString() }));
    const signed = parseReceipt(backdated.answer.receipt);
    assert.equal(signed?.payload.asOf, new Date(nowMs - 86_400_000).toISOString());
    const byWorker = await verifyReceipt(backdated.answer.receipt, backdated.expected);
    assert.equal(byWorker.ok ? "accepted" : byWorker.check, "time");
    const offline = await verifyReceipt(backdated.answer.receipt, {
      ...backdated.expected,
      now: undefined,
      notBefore: new Date(nowMs - 60_000),
    });
    assert.equal(offline.ok ? "accepted" : offline.check, "time");
  });
});
