#!/usr/bin/env node
// `npm run verify-receipt -- <answer.json> [--question "text"] [--dev | --pcr0 H --pcr1 H --pcr2 H]`:
// checks, offline, an answer saved from `POST /v1/ai/query` and the receipt it carries
// (docs/confidential-ai.md, "Receipts") — with the SDK's own verifyAnswerReceipt (sdk/client/receipt.ts),
// bundled the way the Worker's code is, so the command and the SDK cannot disagree.
//
// Pins: AWS Nitro root G1 and the PCRs given (--pcr0..2, or ENCLAVE_PCR0..2), or with --dev the
// development root and PCRs of `npm run dev`, computed as scripts/dev.mjs does from the state under
// PERSIST_DIR (default .wrangler/state) and the enclave's current source. --root FILE pins another
// root (PEM or DER). Exit 0: verified, with a summary; 1: a check failed (named); 2: usage.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundleForNode } from "./bundle-for-node.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = `usage: npm run verify-receipt -- <answer.json> [--question "text"]
         (--dev [--state-dir DIR] | --pcr0 HEX --pcr1 HEX --pcr2 HEX [--root FILE] [--root-sha256 HEX])`;

const CHECK_NAMES = {
  format: "the answer file and receipt shape",
  root: "the pinned root certificate",
  document: "the attestation document (COSE_Sign1 ES384, chain to the pinned root at the document's own timestamp)",
  pcrs: "PCR0-2 of the document and of the receipt against the pinned values",
  signature: "the receipt signature under the key in the document's user_data",
  attestation: "the receipt names that document (its SHA-256)",
  model: "the model named by the document",
  question: "the question's hash",
  data: "the data's hash",
  answer: "the answer's hash (answer, usedMetrics, figures)",
  context: "the instant and time zone the question was read in",
  time: "the receipt's time against the document's, and the question's instant against the receipt's time",
  sha256: "receipt.sha256",
};

function usage(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      question: { type: "string" },
      dev: { type: "boolean", default: false },
      "state-dir": { type: "string" },
      pcr0: { type: "string" },
      pcr1: { type: "string" },
      pcr2: { type: "string" },
      root: { type: "string" },
      "root-sha256": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
} catch (error) {
  usage(error.message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length !== 1) usage("give exactly one answer file");

/** The root and PCRs to pin, and a name for the root. */
async function pins() {
  let root;
  let rootSha256;
  let rootName = "AWS Nitro root G1";
  let pcrs = {};
  if (values.dev) {
    const stateDir = resolve(
      values["state-dir"] ?? join(resolve(repo, process.env.PERSIST_DIR ?? ".wrangler/state"), "enclave-bridge"),
    );
    // Never create a root here: a verification against a root made for it would prove nothing.
    if (!existsSync(join(stateDir, "development-root.json"))) {
      usage(`no development root in ${stateDir}: run \`npm run dev\` first (same PERSIST_DIR), or pass --state-dir`);
    }
    const { developmentEnclave } = await import("../enclave-bridge/src/dev.ts");
    const identity = await developmentEnclave(stateDir);
    root = identity.rootPem;
    rootSha256 = identity.rootSha256;
    rootName = `development root of ${stateDir}`;
    pcrs = { ...identity.pcrs };
  }
  if (values.root !== undefined) {
    root = readFileSync(values.root);
    if (root.toString("latin1").includes("-----BEGIN")) root = root.toString("utf8");
    else root = new Uint8Array(root);
    rootSha256 = undefined;
    rootName = values.root;
  }
  if (values["root-sha256"] !== undefined) rootSha256 = values["root-sha256"];
  for (const index of [0, 1, 2]) {
    const given = values[`pcr${index}`] ?? (values.dev ? undefined : process.env[`ENCLAVE_PCR${index}`]);
    if (given !== undefined) pcrs[index] = given;
    if (!/^[0-9a-fA-F]{96}$/.test(pcrs[index] ?? "")) {
      usage(`PCR${index} to pin is missing or not 96 hex digits: pass --pcr${index}, set ENCLAVE_PCR${index}, or use --dev`);
    }
  }
  return { root, rootSha256, rootName, pcrs };
}

const pinned = await pins();
let answer;
try {
  answer = JSON.parse(readFileSync(positionals[0], "utf8"));
} catch (error) {
  console.error(`receipt NOT verified: format — ${positionals[0]} is not readable JSON (${error.code ?? error.name})`);
  process.exit(1);
}

const { verifyAnswerReceipt } = await bundleForNode('export { verifyAnswerReceipt } from "./sdk/client/receipt.ts";', {
  platform: "node",
});
const result = await verifyAnswerReceipt(answer, {
  pcrs: pinned.pcrs,
  ...(pinned.root === undefined ? {} : { root: pinned.root }),
  ...(pinned.rootSha256 === undefined ? {} : { rootSha256: pinned.rootSha256 }),
  ...(values.question === undefined ? {} : { question: values.question }),
});

if (!result.ok) {
  console.error(`receipt NOT verified: ${result.check} — ${CHECK_NAMES[result.check] ?? result.check}: ${result.detail}`);
  process.exit(1);
}
const model = result.model;
console.log(`receipt verified
  model       ${model.id} (${model.kind}${model.confidential ? ", inside attested hardware" : ", NOT confidential: outside attested hardware"})
  signed at   ${result.time} (enclave clock); attestation document of ${result.attestedAt}, module ${result.moduleId}
  read as of  ${result.asOf} in ${result.timeZone} ("last week", "yesterday" and "on Monday" are relative to this)
  PCR0        ${result.pcrs[0]}
  root        ${pinned.rootName} (SHA-256 ${result.rootSha256})
  receipt     SHA-256 ${result.receiptSha256} (the access log's ai.answer entry shows it)
  checked     ${result.checked.map((check) => CHECK_NAMES[check] ?? check).join("; ")}${
    result.questionChecked ? "" : "\n  not checked the question's hash: pass --question with the exact question asked"
  }`);
