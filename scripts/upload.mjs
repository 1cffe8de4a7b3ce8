#!/usr/bin/env node
// `npm run upload -- [--url <base>] [--token <access token>] [--no-wait] <files...>`
//
// Uploads Health Connect exports (Avro files) to Pulse the way a client app would: one
// `POST /v1/uploads` per file with the raw bytes, then polls each upload's status URL until the
// ingest job has completed or failed, and prints its counts. The token is a Pulse access token
// (`--token`, or the PULSE_TOKEN environment variable); the base URL is `--url`, PULSE_URL, or
// http://127.0.0.1:8787 (`npm run dev`). When the per-user quota (10 uploads a minute) answers
// 429, the upload waits for Retry-After and tries again. The exit code is 0 when every file was
// ingested, 1 when any was refused or failed, 2 on a usage error. Requests go through the typed
// client generated from the OpenAPI document (sdk/client).
import { openAsBlob } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { pathToFileURL } from "node:url";
import { createPulseClient, uploadBody } from "../sdk/client/index.ts";

const USAGE =
  "usage: npm run upload -- [--url http://127.0.0.1:8787] [--token <access token> | env PULSE_TOKEN] [--no-wait] <files...>";
const MAX_QUOTA_WAITS = 10;
const POLL_INTERVAL_MS = Number(process.env.PULSE_POLL_MS ?? 1000);
const POLL_TIMEOUT_MS = 10 * 60 * 1000;

function usage(message) {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

export function parseArgs(argv, env = process.env) {
  const options = { url: env.PULSE_URL ?? "http://127.0.0.1:8787", token: env.PULSE_TOKEN, wait: true, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--url" || arg === "--token") {
      const value = argv[++i];
      if (value === undefined) usage(`${arg} needs a value`);
      options[arg.slice(2)] = value;
    } else if (arg === "--no-wait") options.wait = false;
    else if (arg === "--help" || arg === "-h") usage();
    else if (arg.startsWith("--")) usage(`unknown option ${arg}`);
    else options.files.push(arg);
  }
  if (!options.token) usage("no token: pass --token or set PULSE_TOKEN");
  if (options.files.length === 0) usage("no files given");
  return options;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A refusal as one line: the problem document's code and detail (the client parsed it), or its text. */
function problemText(response, error) {
  if (typeof error === "object" && error !== null) return `${response.status} ${error.code ?? ""}: ${error.detail ?? ""}`.trim();
  return `${response.status}: ${String(error ?? "").slice(0, 200)}`;
}

/** Sends one file; returns the receipt, or null when Pulse refused it (reason printed). */
async function send(pulse, file) {
  for (let wait = 0; ; wait++) {
    const {
      data: receipt,
      error,
      response,
    } = await pulse.POST("/v1/uploads", uploadBody(await openAsBlob(file), basename(file)));
    if (response.status === 429 && wait < MAX_QUOTA_WAITS) {
      const seconds = Number(response.headers.get("Retry-After") ?? "1");
      console.log(`${file}: upload quota reached, waiting ${seconds} s`);
      await sleep(seconds * 1000);
      continue;
    }
    if (receipt === undefined) {
      console.log(`${file}: refused ${problemText(response, error)}`);
      return null;
    }
    const again = response.status === 200 ? " (sent before)" : "";
    console.log(`${file}: ${receipt.uploadId} ${receipt.status}${again} ${receipt.recordType}, ${receipt.recordCount} records`);
    return receipt;
  }
}

function describe(upload) {
  const { accepted, duplicate, flagged, rejected } = upload.counts;
  const counts = `accepted ${accepted}, duplicate ${duplicate}, flagged ${flagged}, rejected ${rejected}`;
  return upload.status === "failed"
    ? `failed ${upload.error?.code}: ${upload.error?.message} (${counts})`
    : `completed: ${counts}`;
}

/** Polls every pending upload until each has completed or failed; returns how many failed. */
async function waitAll(options, pulse, pending) {
  let failed = 0;
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  while (pending.size > 0) {
    if (Date.now() > deadline) {
      for (const [id, file] of pending)
        console.log(`${file}: ${id} still not done; check ${new URL(`/v1/uploads/${id}`, options.url)}`);
      return failed + pending.size;
    }
    await sleep(POLL_INTERVAL_MS);
    for (const [id, file] of pending) {
      const { data: upload, error, response } = await pulse.GET("/v1/uploads/{id}", { params: { path: { id } } });
      if (upload === undefined) {
        console.log(`${file}: ${id} status unavailable (${problemText(response, error)})`);
        failed++;
        pending.delete(id);
        continue;
      }
      if (upload.status !== "completed" && upload.status !== "failed") continue;
      console.log(`${file}: ${id} ${describe(upload)}`);
      if (upload.status === "failed") failed++;
      pending.delete(id);
    }
  }
  return failed;
}

export async function main(argv) {
  const options = parseArgs(argv);
  const pulse = createPulseClient({ baseUrl: options.url, token: options.token });
  let failed = 0;
  const pending = new Map();
  for (const file of options.files) {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      console.log(`${file}: not a readable file`);
      failed++;
      continue;
    }
    const receipt = await send(pulse, file).catch((error) => {
      console.log(`${file}: ${error.cause?.code ?? error.message} (is Pulse running at ${options.url}?)`);
      return null;
    });
    if (receipt === null) failed++;
    else if (receipt.status === "failed") {
      console.log(`${file}: ${receipt.uploadId} failed earlier; see ${new URL(receipt.statusUrl, options.url)}`);
      failed++;
    } else if (options.wait) pending.set(receipt.uploadId, file);
  }
  if (options.wait) failed += await waitAll(options, pulse, pending);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
