// `npm run verify-receipt` and the SDK's verifyAnswerReceipt on a real answer: the real enclave
// application (development NSM, built-in analyst, the state directory `npm run dev` would use)
// attests, answers a question sealed to it through protocol.ts, and signs its receipt; the answer
// file is shaped as POST /v1/ai/query returns it. Verification passes, and fails — naming the check —
// when any byte of the answer, the question hash, the PCRs, the signature or the document changes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { developmentEnclave } from "../../enclave-bridge/src/dev.ts";
import { EnclaveApp } from "../../enclave-bridge/src/enclave/app.ts";
import { AnalystProvider } from "../../enclave-bridge/src/model/analyst-provider.ts";
import {
  attestRequest,
  decodeMessage,
  errorCodeOf,
  MessageKind,
  sealQuery,
  sha256Hex,
} from "../../enclave-bridge/src/protocol.ts";
import { type AnswerReceipt, receiptSha256 } from "../../enclave-bridge/src/receipt.ts";
import { verifyAnswerReceipt } from "../../sdk/client/receipt.ts";

const REPO = resolve(import.meta.dirname, "../..");
const QUESTION = "What was my average resting heart rate last week?";
const DAY = 86_400_000;

interface AnswerFile {
  answer: string;
  usedMetrics: string[];
  figures: { label: string; value: number; unit: string }[];
  period: { since: string; until: string };
  attestation: { pcr0: string; moduleId: string; verifiedAt: string };
  model: { id: string; kind: string; confidential: boolean };
  receipt: { -readonly [K in keyof AnswerReceipt]: AnswerReceipt[K] } & { attestationDocument: string; sha256: string };
}

let persistDir: string;
let answer: AnswerFile;
let pcrs: { 0: string; 1: string; 2: string };
let rootPem: string;

/** What the Worker does, minus HTTP: attest, seal the question and data, open the answer. */
beforeAll(async () => {
  persistDir = mkdtempSync(join(tmpdir(), "pulse-receipt-"));
  const identity = await developmentEnclave(join(persistDir, "enclave-bridge"));
  pcrs = { ...identity.pcrs };
  rootPem = identity.rootPem;
  const app = await EnclaveApp.create({ nsm: identity.nsm, model: new AnalystProvider() });
  const attested = decodeMessage(await app.handle(attestRequest(crypto.getRandomValues(new Uint8Array(32)))));
  expect(attested.kind).toBe(MessageKind.ATTESTATION);
  const document = attested.body.slice();
  const now = Date.now();
  const days = [1, 2, 3, 4, 5, 6];
  const sealed = await sealQuery(app.keys.publicKey, {
    question: QUESTION,
    now: new Date(now).toISOString(),
    attestationSha256: await sha256Hex(document),
    data: {
      metrics: {
        resting_heart_rate: {
          unit: "bpm",
          start: days.map((d) => now - d * DAY),
          end: days.map((d) => now - d * DAY),
          value: [56, 58, 57, 60, 55, 60],
        },
      },
    },
  });
  const reply = decodeMessage(await app.handle(sealed.message));
  expect(reply.kind, errorCodeOf(reply.body)).toBe(MessageKind.ANSWER);
  const opened = await sealed.openAnswer(reply.body);
  const receipt = opened.receipt as AnswerReceipt;
  answer = {
    answer: opened.answer,
    usedMetrics: opened.usedMetrics,
    figures: opened.figures,
    period: { since: new Date(now - 7 * DAY).toISOString(), until: new Date(now).toISOString() },
    attestation: { pcr0: pcrs[0], moduleId: "i-0000000000000000-enc0000000000000000", verifiedAt: new Date(now).toISOString() },
    model: receipt.payload.model,
    receipt: {
      ...receipt,
      attestationDocument: Buffer.from(document).toString("base64"),
      sha256: await receiptSha256(receipt),
    },
  };
}, 60_000);

function verifyCli(file: AnswerFile | string, args: string[] = ["--dev"]) {
  const path = join(persistDir, `answer-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof file === "string" ? file : JSON.stringify(file, null, 2));
  const env: Record<string, string | undefined> = { ...process.env, PERSIST_DIR: persistDir };
  for (const index of [0, 1, 2]) delete env[`ENCLAVE_PCR${index}`];
  const run = spawnSync(process.execPath, [join(REPO, "scripts/verify-receipt.mjs"), path, ...args], {
    cwd: REPO,
    env,
    encoding: "utf8",
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const flipHex = (hex: string, at = 10) => hex.slice(0, at) + (hex[at] === "0" ? "1" : "0") + hex.slice(at + 1);
const copy = () => structuredClone(answer);

describe("npm run verify-receipt", () => {
  it("accepts the enclave's answer against the development pins and says what it checked", () => {
    const run = verifyCli(answer, ["--dev", "--question", QUESTION]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("receipt verified");
    expect(run.stdout).toContain("pulse-analyst@4 (analyst, inside attested hardware)");
    expect(run.stdout).toContain(`PCR0        ${pcrs[0]}`);
    expect(run.stdout).toContain(answer.receipt.sha256);
    expect(run.stdout).toContain("the question's hash");
    // What "last week" was measured from, signed, so the person sees which week was meant.
    expect(run.stdout).toContain(`read as of  ${answer.receipt.payload.asOf} in UTC`);
    // Without --question it says the question was not checked.
    const without = verifyCli(answer);
    expect(without.status).toBe(0);
    expect(without.stdout).toContain("not checked the question's hash");
  }, 120_000);

  it("fails, naming the check, when the answer, the question, the claims, the PCRs or the document change", () => {
    const cases: [string, AnswerFile | string, string[], string][] = [];
    const text = copy();
    text.answer = text.answer.replace("57.7", "57.8");
    cases.push(["answer text", text, ["--dev"], "answer"]);
    const figure = copy();
    figure.figures[0] = { ...(figure.figures[0] ?? { label: "", unit: "" }), value: 1 };
    cases.push(["a figure", figure, ["--dev"], "answer"]);
    const question = copy();
    question.receipt.payload = { ...question.receipt.payload, questionSha256: flipHex(question.receipt.payload.questionSha256) };
    cases.push(["the question hash", question, ["--dev"], "signature"]);
    const pcr = copy();
    pcr.receipt.payload = {
      ...pcr.receipt.payload,
      pcrs: { ...pcr.receipt.payload.pcrs, 1: flipHex(pcr.receipt.payload.pcrs[1]) },
    };
    cases.push(["a signed PCR", pcr, ["--dev"], "signature"]);
    const asOf = copy();
    asOf.receipt.payload = { ...asOf.receipt.payload, asOf: new Date(Date.parse(asOf.receipt.payload.asOf) - DAY).toISOString() };
    cases.push(["the instant the question was read as of", asOf, ["--dev"], "signature"]);
    cases.push(["another question", answer, ["--dev", "--question", `${QUESTION}!`], "question"]);
    cases.push(["another pinned PCR0", answer, ["--dev", "--pcr0", flipHex(pcrs[0])], "pcrs"]);
    cases.push(["the production root", answer, ["--pcr0", pcrs[0], "--pcr1", pcrs[1], "--pcr2", pcrs[2]], "document"]);
    const signature = copy();
    signature.receipt.signature = `${signature.receipt.signature.slice(0, 40)}${signature.receipt.signature[40] === "A" ? "B" : "A"}${signature.receipt.signature.slice(41)}`;
    cases.push(["the signature", signature, ["--dev"], "signature"]);
    const document = copy();
    const bytes = Buffer.from(document.receipt.attestationDocument, "base64");
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    document.receipt.attestationDocument = bytes.toString("base64");
    cases.push(["the attestation document", document, ["--dev"], "document"]);
    const hash = copy();
    hash.receipt.sha256 = flipHex(hash.receipt.sha256);
    cases.push(["receipt.sha256", hash, ["--dev"], "sha256"]);
    const model = copy();
    model.model = { ...model.model, id: "pulse-analyst@9" };
    cases.push(["the answer's model", model, ["--dev"], "model"]);
    cases.push(["a truncated file", JSON.stringify(answer).slice(0, 200), ["--dev"], "format"]);
    const noReceipt: Partial<AnswerFile> = copy();
    delete noReceipt.receipt;
    cases.push(["no receipt", noReceipt as AnswerFile, ["--dev"], "format"]);

    for (const [what, file, args, check] of cases) {
      const run = verifyCli(file, args);
      expect({ what, status: run.status, check: /^receipt NOT verified: (\w+)/.exec(run.stderr)?.[1] }).toEqual({
        what,
        status: 1,
        check,
      });
      expect(run.stdout).toBe("");
    }
  }, 120_000);

  it("refuses to run without pins rather than verify against nothing", () => {
    const noPcrs = verifyCli(answer, []);
    expect(noPcrs.status).toBe(2);
    expect(noPcrs.stderr).toMatch(/PCR0 to pin is missing/);
    const noState = verifyCli(answer, ["--dev", "--state-dir", join(persistDir, "elsewhere")]);
    expect(noState.status).toBe(2);
    expect(noState.stderr).toMatch(/no development root/);
  }, 120_000);
});

describe("verifyAnswerReceipt (SDK)", () => {
  it("verifies the same answer in process, and fails for a change of any character of the answer", async () => {
    const options = { root: rootPem, pcrs, question: QUESTION };
    const ok = await verifyAnswerReceipt(answer, options);
    expect(ok).toMatchObject({ ok: true, model: answer.model, receiptSha256: answer.receipt.sha256, questionChecked: true });
    for (let at = 0; at < answer.answer.length; at++) {
      const changed = copy();
      const code = changed.answer.charCodeAt(at);
      changed.answer =
        changed.answer.slice(0, at) + String.fromCharCode(code === 0x41 ? 0x42 : 0x41) + changed.answer.slice(at + 1);
      const result = await verifyAnswerReceipt(changed, options);
      expect(result.ok ? "accepted" : result.check, `character ${at}`).toBe("answer");
    }
    // Every byte of the signed question hash.
    for (let at = 0; at < 64; at++) {
      const changed = copy();
      changed.receipt.payload = {
        ...changed.receipt.payload,
        questionSha256: flipHex(changed.receipt.payload.questionSha256, at),
      };
      const result = await verifyAnswerReceipt(changed, options);
      expect(result.ok ? "accepted" : result.check, `question hash digit ${at}`).toBe("signature");
    }
    // Without a root it pins AWS Nitro root G1, which did not sign a development document.
    expect(await verifyAnswerReceipt(answer, { pcrs })).toMatchObject({ ok: false, check: "document" });
    expect(await verifyAnswerReceipt(answer, { ...options, rootSha256: "00".repeat(32) })).toMatchObject({
      ok: false,
      check: "root",
    });
  }, 120_000);
});
