// The in-enclave open-weights model through node-llama-cpp's real prebuilt binary, on a tiny GGUF
// model this test writes (test/support/tiny-gguf.ts): the weights are noise, so these tests check
// the path — loading, identity, the prompt built from the selected data, limits, aborts, the
// enclave round trip — and never what the answer says.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AnalystInput } from "../src/analyst/types.ts";
import { decodeCbor } from "../src/cbor.ts";
import { EnclaveApp, type EnclaveLogEvent } from "../src/enclave/app.ts";
import { decodeEnclaveIdentity } from "../src/identity.ts";
import { buildLlamaPrompt, LlamaProvider } from "../src/model/llama.ts";
import { ModelError } from "../src/model/provider.ts";
import { SimulatedNsm } from "../src/nsm/simulated-nsm.ts";
import {
  attestRequest,
  decodeMessage,
  type EnclaveQuery,
  errorCodeOf,
  MessageKind,
  sealQuery,
  toAnalystData,
} from "../src/protocol.ts";
import { tinyGguf, writeTinyGguf } from "./support/tiny-gguf.ts";

const QUESTION = "What was my average resting heart rate last week?";
const NOW = "2026-11-23T12:00:00.000Z";
const DAY = 86_400_000;
const nowMs = Date.parse(NOW);
const restingHeartRate = [56, 58, 57, 60, 55, 61]; // one a day, most recent last: mean 57.83
const QUERY: EnclaveQuery = {
  question: QUESTION,
  now: NOW,
  timeZone: "Europe/Paris",
  // Named in the receipt (receipt.test.ts checks it); any document hash serves here.
  attestationSha256: "ab".repeat(32),
  data: {
    metrics: {
      resting_heart_rate: {
        unit: "bpm",
        start: restingHeartRate.map((_, index) => nowMs - (6 - index) * DAY),
        end: restingHeartRate.map((_, index) => nowMs - (6 - index) * DAY + 60_000),
        value: restingHeartRate,
      },
      steps: { unit: "count", start: [nowMs - 2 * DAY], end: [nowMs - DAY], value: [8421] },
    },
    sleep: [
      {
        start: nowMs - 14 * 3_600_000,
        end: nowMs - 6 * 3_600_000,
        stages: [
          { stage: "light", start: nowMs - 14 * 3_600_000, end: nowMs - 11 * 3_600_000 },
          { stage: "deep", start: nowMs - 11 * 3_600_000, end: nowMs - 10 * 3_600_000 },
          { stage: "awake", start: nowMs - 10 * 3_600_000, end: nowMs - 9.5 * 3_600_000 },
          { stage: "rem", start: nowMs - 9.5 * 3_600_000, end: nowMs - 6 * 3_600_000 },
        ],
      },
    ],
  },
};
const INPUT: AnalystInput = { question: QUESTION, now: NOW, timeZone: "Europe/Paris", data: toAnalystData(QUERY.data) };
const MAX_ANSWER_TOKENS = 24;

/** One character, one token: a stand-in tokenizer for the pure prompt builder. */
const byCharacters = (text: string) => text.length;

function manyDays(days: number): AnalystInput {
  const metrics: AnalystInput["data"]["metrics"] = {};
  for (const code of ["active_energy", "heart_rate", "resting_heart_rate", "steps"]) {
    metrics[code] = { unit: "u", points: [{ start: NOW, end: NOW, value: 1 }] };
  }
  const sleep = Array.from({ length: days }, (_, day) => ({
    start: new Date(nowMs - (day + 1) * DAY).toISOString(),
    end: new Date(nowMs - (day + 1) * DAY + 8 * 3_600_000).toISOString(),
    stages: [],
  }));
  return { question: QUESTION, now: NOW, data: { metrics, sleep } };
}

/** "Summarize my week": the Worker sends the week's clinical narrative and no series. */
const WEEK: AnalystInput = {
  question: "Summarize my week",
  now: NOW,
  timeZone: "Europe/Paris",
  data: {
    metrics: {},
    narrative: {
      period: "week",
      date: "2026-11-16",
      endDate: "2026-11-22",
      timeZone: "Europe/Paris",
      sections: [
        {
          domain: "glucose",
          title: "Glucose",
          sentences: [
            "Mean glucose 102 mg/dL (GMI 5.7 %) from 2,016 CGM readings.",
            "No hypoglycaemic events (≥ 15 min below 70 mg/dL).",
          ],
          figures: [
            { code: "mean_glucose", label: "Mean glucose", value: 102, unit: "mg/dL" },
            { code: "gmi", label: "GMI", value: 5.7, unit: "%" },
            { code: "cv", label: "Coefficient of variation", value: null, unit: "%" },
          ],
        },
        {
          domain: "sleep",
          title: "Sleep",
          sentences: ["Slept 7 h 12 min a night on average over 7 nights."],
          figures: [{ code: "mean_asleep_minutes", label: "Mean time asleep", value: 432, unit: "min" }],
        },
      ],
      noData: ["blood_pressure", "body"],
    },
  },
};

describe("llama prompt", () => {
  it("summarises each metric and sleep session with the question, now and time zone", () => {
    const prompt = buildLlamaPrompt(INPUT, { maxTokens: 10_000, countTokens: byCharacters });
    assert.match(prompt.user, /Question: What was my average resting heart rate last week\?$/);
    assert.match(prompt.user, /^Now: 2026-11-23 13:00 Mon \(2026-11-23T12:00:00\.000Z\)$/m);
    assert.match(prompt.user, /^Time zone: Europe\/Paris$/m);
    // The Worker's figures, in the asker's local time (Paris is UTC+1 in November).
    assert.match(
      prompt.user,
      /^- resting_heart_rate \(bpm\): 6 readings from 2026-11-17 13:00 Tue to 2026-11-22 13:01 Sun; mean 57\.83, min 55, max 61, latest 61 at 2026-11-22 13:01 Sun$/m,
    );
    assert.match(prompt.user, /^- steps \(count\): 1 reading from .*; mean 8421, min 8421, max 8421, latest 8421 at /m);
    assert.match(
      prompt.user,
      /^ {2}- 2026-11-22 23:00 Sun to 2026-11-23 07:00 Mon: asleep 7 h 30 min of 8 h 0 min \(awake 0 h 30 min, deep 1 h 0 min, light 3 h 0 min, rem 3 h 30 min\)$/m,
    );
    assert.match(prompt.system, /using only the data in the message/);
    assert.deepEqual(prompt.usedMetrics, ["resting_heart_rate", "steps", "sleep"]);
    assert.equal(prompt.omittedLines, 0);
    assert.equal(prompt.tokens, prompt.user.length);
    assert.deepEqual(buildLlamaPrompt(structuredClone(INPUT), { maxTokens: 10_000, countTokens: byCharacters }), prompt);
  });

  it("reads local times in a ±HH:MM zone and in UTC when none is given", () => {
    const offset = buildLlamaPrompt({ ...INPUT, timeZone: "-05:30" }, { maxTokens: 10_000, countTokens: byCharacters });
    assert.match(offset.user, /^Now: 2026-11-23 06:30 Mon /m);
    const { timeZone: _, ...withoutZone } = INPUT;
    const utc = buildLlamaPrompt(withoutZone, { maxTokens: 10_000, countTokens: byCharacters });
    assert.match(utc.user, /^Now: 2026-11-23 12:00 Mon /m);
    assert.match(utc.user, /^Time zone: UTC$/m);
  });

  it("drops whole data lines from the end to fit the budget, says so, and keeps the question", () => {
    const input = manyDays(40);
    const full = buildLlamaPrompt(input, { maxTokens: 100_000, countTokens: byCharacters });
    assert.equal(full.omittedLines, 0);
    const budget = Math.floor(full.tokens / 2);
    const trimmed = buildLlamaPrompt(input, { maxTokens: budget, countTokens: byCharacters });
    assert.ok(trimmed.tokens <= budget && trimmed.tokens > budget - 200, `${trimmed.tokens} of ${budget}`);
    assert.ok(trimmed.omittedLines > 0);
    const total = input.data.sleep?.length ?? 0;
    assert.match(
      trimmed.user,
      new RegExp(`^\\[${trimmed.omittedLines} of ${total + 5} data lines left out to fit the model's context\\]$`, "m"),
    );
    assert.match(trimmed.user, /Question: What was my average resting heart rate last week\?$/);
    // The most recent nights are kept, the oldest left out.
    assert.ok(trimmed.user.includes("2026-11-22 12:00 Sun to 2026-11-22 20:00 Sun"));
    assert.ok(!trimmed.user.includes("2026-10-14"));
    assert.deepEqual(buildLlamaPrompt(input, { maxTokens: budget, countTokens: byCharacters }), trimmed);

    const headOnly = buildLlamaPrompt(input, { maxTokens: 300, countTokens: byCharacters });
    assert.deepEqual(headOnly.usedMetrics, []);
    assert.equal(headOnly.omittedLines, total + 5);
  });

  it("gives a summary question the narrative's sentences and figures, cut from its last section", () => {
    const full = buildLlamaPrompt(WEEK, { maxTokens: 10_000, countTokens: byCharacters });
    const data = full.user.split("\n").slice(3, -1);
    assert.deepEqual(data, [
      "- clinical narrative of the week 2026-11-16 to 2026-11-22 (local days in Europe/Paris):",
      "  - Glucose: Mean glucose 102 mg/dL (GMI 5.7 %) from 2,016 CGM readings. No hypoglycaemic events (≥ 15 min below 70 mg/dL).",
      "    figures: Mean glucose 102 mg/dL; GMI 5.7 %; Coefficient of variation no value",
      "  - Sleep: Slept 7 h 12 min a night on average over 7 nights.",
      "    figures: Mean time asleep 432 min",
      "  - no data in this week for: blood_pressure, body",
    ]);
    assert.match(full.user, /Question: Summarize my week$/);
    assert.deepEqual(full.usedMetrics, ["blood_glucose", "sleep"]);
    assert.equal(full.omittedLines, 0);

    // Without room for the sleep section, the glucose section stays whole and the cut is stated.
    const note = "[3 of 6 data lines left out to fit the model's context]";
    const cut = full.tokens - data.slice(3).reduce((total, line) => total + line.length + 1, 0) + note.length + 1;
    const trimmed = buildLlamaPrompt(WEEK, { maxTokens: cut, countTokens: byCharacters });
    assert.equal(trimmed.omittedLines, 3);
    assert.ok(trimmed.user.includes("figures: Mean glucose 102 mg/dL; GMI 5.7 %"));
    assert.ok(!trimmed.user.includes("Slept 7 h 12 min"));
    assert.match(trimmed.user, /^\[3 of 6 data lines left out to fit the model's context\]$/m);
    assert.deepEqual(trimmed.usedMetrics, ["blood_glucose"]);

    // A narrative sent beside series (any question may carry both) comes first, so it is cut last.
    const both = buildLlamaPrompt(
      { ...WEEK, data: { ...INPUT.data, narrative: WEEK.data.narrative } },
      {
        maxTokens: 10_000,
        countTokens: byCharacters,
      },
    );
    assert.ok(both.user.indexOf("clinical narrative") < both.user.indexOf("- resting_heart_rate"));
    assert.deepEqual(both.usedMetrics, ["blood_glucose", "sleep", "resting_heart_rate", "steps"]);
  });

  it("refuses a question that alone exceeds the budget", () => {
    assert.throws(
      () => buildLlamaPrompt({ ...INPUT, question: "why ".repeat(200) }, { maxTokens: 500, countTokens: byCharacters }),
      (error: unknown) => error instanceof ModelError && !error.message.includes("why"),
    );
  });
});

describe("llama provider on a tiny generated model", () => {
  let dir: string;
  let modelPath: string;
  let provider: LlamaProvider;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "pulse-llama-"));
    modelPath = join(dir, "tiny.gguf");
    await writeTinyGguf(modelPath, { seed: 7 });
    provider = await LlamaProvider.load({ modelPath, maxPromptTokens: 768, maxAnswerTokens: MAX_ANSWER_TOKENS, threads: 1 });
  });
  after(async () => {
    await provider.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is named by the SHA-256 of its weights", () => {
    const digest = createHash("sha256").update(readFileSync(modelPath)).digest("hex");
    assert.deepEqual(provider.identity, { id: `gguf-sha256:${digest}`, kind: "llama", confidential: true });
    assert.equal(provider.name, `llama:${digest.slice(0, 12)}`);
    // The generator is deterministic, so the same seed is the same model and another seed another.
    assert.deepEqual(tinyGguf({ seed: 7 }), new Uint8Array(readFileSync(modelPath)));
    assert.notDeepEqual(tinyGguf({ seed: 8 }), tinyGguf({ seed: 7 }));
  });

  it("generates at most maxAnswerTokens and answers the same question the same way", async () => {
    const before = provider.stats;
    const first = await provider.answer(INPUT);
    const other = await provider.answer({ ...INPUT, question: "How many steps did I take?" });
    const again = await provider.answer(INPUT);
    const stats = provider.stats;
    assert.ok(first.answer.length > 0);
    assert.deepEqual(first.usedMetrics, ["resting_heart_rate", "steps", "sleep"]);
    assert.deepEqual(first.figures, []);
    // The tiny model never ends on its own, so every answer stops exactly at the limit.
    assert.equal(stats.answers - before.answers, 3);
    assert.equal(stats.answerTokens - before.answerTokens, 3 * MAX_ANSWER_TOKENS);
    // Temperature 0 and an emptied sequence: nothing of the previous question conditions the next.
    assert.deepEqual(again, first);
    assert.notDeepEqual(other.answer, first.answer);
  });

  it("cuts the data to maxPromptTokens with the real tokenizer", async () => {
    const input = manyDays(120);
    const prompt = buildLlamaPrompt(input, { maxTokens: 768, countTokens: (text) => provider.countTokens(text) });
    assert.ok(prompt.omittedLines > 0);
    const before = provider.stats;
    const answer = await provider.answer(input);
    assert.equal(provider.stats.promptTokens - before.promptTokens, prompt.tokens);
    assert.ok(prompt.tokens <= 768);
    assert.deepEqual(answer.usedMetrics, prompt.usedMetrics);
  });

  it("answers a summary question from the narrative with the real tokenizer", async () => {
    const prompt = buildLlamaPrompt(WEEK, { maxTokens: 768, countTokens: (text) => provider.countTokens(text) });
    assert.equal(prompt.omittedLines, 0);
    const before = provider.stats;
    const answer = await provider.answer(WEEK);
    assert.equal(provider.stats.promptTokens - before.promptTokens, prompt.tokens);
    assert.deepEqual(answer.usedMetrics, ["blood_glucose", "sleep"]);
    assert.deepEqual(answer.figures, []);
    assert.ok(answer.answer.length > 0);
  });

  it("runs one generation at a time: a concurrent question waits, and one aborted while waiting leaves", async () => {
    const alone = await provider.answer(INPUT);
    const waiting = new AbortController();
    const results = Promise.allSettled([
      provider.answer(INPUT),
      provider.answer({ ...INPUT, question: "How many steps did I take?" }, { signal: waiting.signal }),
      provider.answer(INPUT),
    ]);
    waiting.abort();
    const [first, aborted, third] = await results;
    assert.deepEqual(first, { status: "fulfilled", value: alone });
    assert.deepEqual(third, { status: "fulfilled", value: alone });
    assert.equal(aborted?.status, "rejected");
    assert.ok(aborted.status === "rejected" && aborted.reason instanceof ModelError);
    assert.doesNotMatch(String(aborted.reason), /steps/);
  });

  it("answers through the enclave: sealed question, sealed answer, weights named in user_data", async () => {
    const logs: EnclaveLogEvent[] = [];
    const nsm = await SimulatedNsm.create({ imageIdentity: "llama-test" });
    const app = await EnclaveApp.create({ nsm, model: provider, log: (event) => logs.push(event) });
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const attestation = decodeMessage(await app.handle(attestRequest(nonce)));
    assert.equal(attestation.kind, MessageKind.ATTESTATION);
    const [, , payload] = decodeCbor(attestation.body) as [Uint8Array, unknown, Uint8Array];
    const fields = decodeCbor(payload) as Map<string, unknown>;
    const identity = decodeEnclaveIdentity(fields.get("user_data") as Uint8Array);
    const digest = createHash("sha256").update(readFileSync(modelPath)).digest("hex");
    assert.deepEqual(identity?.model, { id: `gguf-sha256:${digest}`, kind: "llama", confidential: true });

    const sealed = await sealQuery(fields.get("public_key") as Uint8Array, QUERY);
    const reply = decodeMessage(await app.handle(sealed.message));
    assert.equal(reply.kind, MessageKind.ANSWER, `enclave answered ${errorCodeOf(reply.body)}`);
    const { receipt, ...answer } = await sealed.openAnswer(reply.body);
    // The enclave passed the time zone and the data on: the same answer as asking the model directly.
    assert.deepEqual(answer, await provider.answer(INPUT));
    assert.ok(receipt !== undefined, "the answer carries its receipt");
    assert.deepEqual(
      logs.map(({ kind, outcome }) => [kind, outcome]),
      [
        ["attest", "ok"],
        ["query", "ok"],
      ],
    );
  });

  it("aborts at the enclave's model timeout with MODEL_FAILED and leaks nothing", async () => {
    const logs: EnclaveLogEvent[] = [];
    const nsm = await SimulatedNsm.create({ imageIdentity: "llama-test" });
    // 1 ms: the timer fires long before a prompt of hundreds of tokens is evaluated.
    const app = await EnclaveApp.create({ nsm, model: provider, modelTimeoutMs: 1, log: (event) => logs.push(event) });
    const before = provider.stats;
    const sealed = await sealQuery(app.keys.publicKey, QUERY);
    const reply = decodeMessage(await app.handle(sealed.message));
    assert.equal(reply.kind, MessageKind.ERROR);
    assert.equal(errorCodeOf(reply.body), "MODEL_FAILED");
    assert.equal(new TextDecoder().decode(reply.body), "MODEL_FAILED");
    assert.equal(logs.at(-1)?.outcome, "MODEL_FAILED");
    assert.doesNotMatch(JSON.stringify(logs), /heart|bpm|resting/);
    assert.equal(provider.stats.answers, before.answers);
    // The aborted generation left neither the queue held nor its tokens in the sequence.
    assert.deepEqual(await provider.answer(INPUT), await provider.answer(INPUT));
  });
});

describe("llama provider refuses at start", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "pulse-llama-bad-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a missing file", async () => {
    await assert.rejects(LlamaProvider.load({ modelPath: join(dir, "absent.gguf") }), (error: unknown) => {
      return error instanceof ModelError && /model file not found/.test(error.message);
    });
  });

  it("refuses a file that is not GGUF", async () => {
    const path = join(dir, "not.gguf");
    writeFileSync(path, "<html>not a model</html>");
    await assert.rejects(LlamaProvider.load({ modelPath: path }), /not a GGUF file/);
  });

  it("refuses a truncated GGUF file", async () => {
    const path = join(dir, "truncated.gguf");
    const bytes = tinyGguf({ seed: 7 });
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
    await assert.rejects(LlamaProvider.load({ modelPath: path, threads: 1 }), /not a loadable GGUF model/);
  });

  it("refuses a GGUF file whose header is corrupt", async () => {
    const path = join(dir, "corrupt.gguf");
    const bytes = tinyGguf({ seed: 7 });
    bytes.fill(0xff, 8, 24); // tensor and key/value counts
    writeFileSync(path, bytes);
    await assert.rejects(LlamaProvider.load({ modelPath: path, threads: 1 }), /not a loadable GGUF model/);
  });

  it("refuses limits the context cannot hold", async () => {
    const path = join(dir, "tiny.gguf");
    await writeTinyGguf(path, { seed: 7 });
    await assert.rejects(
      LlamaProvider.load({ modelPath: path, maxPromptTokens: 2000, maxAnswerTokens: 256, contextSize: 2048, threads: 1 }),
      /contextSize 2048 cannot hold/,
    );
    await assert.rejects(
      LlamaProvider.load({ modelPath: path, maxAnswerTokens: 0 }),
      /maxAnswerTokens must be a positive integer/,
    );
  });
});
