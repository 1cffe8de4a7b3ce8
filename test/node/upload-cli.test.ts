import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The uploader CLI against a small stand-in for Pulse's upload routes (the routes themselves are
 * tested in workerd, test/worker/uploads*.test.ts): it checks the token, hashes what it receives,
 * refuses non-Avro with a problem document, enforces a tiny quota once, and reports each upload as
 * processing on the first poll and completed (or failed) on the next.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const samples = resolve(root, "../shared/data/health-connect/samples");
const heartRate = resolve(samples, "HeartRateRecord_1760000000000.avro");
const steps = resolve(samples, "StepsRecord_1760000000000.avro");
const TOKEN = "test-access-token";

interface Received {
  fileName: string | null;
  contentType: string | undefined;
  sha256: string;
}

const received: Received[] = [];
const polls = new Map<string, number>();
let quotaHits = 0;
let refuseOnceFor: string | null = null;
let failNext = false;
let baseUrl = "";

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  res.writeHead(status, { "Content-Type": type, ...headers });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { code: "UNAUTHENTICATED", detail: "Sign in." });
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);

  if (req.method === "POST" && req.url === "/v1/uploads") {
    const fileName = /filename="([^"]*)"/.exec(req.headers["content-disposition"] ?? "")?.[1] ?? null;
    if (fileName !== null && fileName === refuseOnceFor) {
      refuseOnceFor = null;
      quotaHits++;
      return json(res, 429, { code: "RATE_LIMITED", detail: "Too many requests." }, { "Retry-After": "0" });
    }
    if (body.subarray(0, 4).toString("latin1") !== "Obj\x01") {
      return json(res, 415, { code: "UNSUPPORTED_MEDIA_TYPE", detail: "The file is not an Avro object container file." });
    }
    const sha256 = createHash("sha256").update(body).digest("hex");
    received.push({ fileName, contentType: req.headers["content-type"], sha256 });
    const uploadId = `upl_${sha256.slice(0, 26).replace(/[0189]/g, "a")}`;
    if (failNext) polls.set(uploadId, -1);
    failNext = false;
    return json(res, 202, {
      uploadId,
      status: "queued",
      recordType: fileName?.startsWith("Steps") ? "Steps" : "HeartRate",
      recordCount: 3,
      sha256,
      statusUrl: `/v1/uploads/${uploadId}`,
    });
  }
  const match = /^\/v1\/uploads\/(upl_[a-z2-7]{26})$/.exec(req.url ?? "");
  if (req.method === "GET" && match?.[1]) {
    const id = match[1];
    const seen = polls.get(id) ?? 0;
    const failing = seen < 0;
    polls.set(id, failing ? seen - 1 : seen + 1);
    const done = Math.abs(seen) >= 1;
    const counts = failing
      ? { accepted: 2000, duplicate: 0, flagged: 0, rejected: 0 }
      : { accepted: 15, duplicate: 0, flagged: 1, rejected: 0 };
    return json(res, 200, {
      id,
      status: done ? (failing ? "failed" : "completed") : "processing",
      counts,
      error: done && failing ? { code: "CORRUPT_DATA", message: "block 4: varint longer than 10 bytes" } : null,
    });
  }
  return json(res, 404, { code: "NOT_FOUND", detail: "No such route." });
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => json(res, 500, { code: "INTERNAL", detail: String(error) }));
});

beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [resolve(root, "scripts/upload.mjs"), ...args], {
      env: { ...process.env, PULSE_TOKEN: "", PULSE_POLL_MS: "10", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data: Buffer) => {
      stdout += data.toString();
    });
    child.stderr.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

function sha256Of(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe("npm run upload", () => {
  it("uploads each file with the token, prints ids and final counts, exits 0", async () => {
    const before = received.length;
    const result = await runCli(["--url", baseUrl, heartRate, steps], { PULSE_TOKEN: TOKEN });
    expect(result.code).toBe(0);
    expect(received.slice(before)).toEqual([
      { fileName: "HeartRateRecord_1760000000000.avro", contentType: "application/avro", sha256: sha256Of(heartRate) },
      { fileName: "StepsRecord_1760000000000.avro", contentType: "application/avro", sha256: sha256Of(steps) },
    ]);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^${heartRate}: upl_[a-z2-7]{26} queued HeartRate, 3 records$`));
    expect(result.stdout).toMatch(
      /StepsRecord_1760000000000\.avro: upl_[a-z2-7]{26} completed: accepted 15, duplicate 0, flagged 1, rejected 0/,
    );
  });

  it("waits out the upload quota and tries again", async () => {
    refuseOnceFor = "StepsRecord_1760000000000.avro";
    const hits = quotaHits;
    const result = await runCli(["--url", baseUrl, "--token", TOKEN, "--no-wait", steps]);
    expect(quotaHits).toBe(hits + 1);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("upload quota reached, waiting 0 s");
    expect(result.stdout).toMatch(/upl_[a-z2-7]{26} queued Steps/);
  });

  it("exits 1 when a file is refused or its ingestion fails, and reports why", async () => {
    const notAvro = resolve(root, "package.json");
    failNext = true;
    const result = await runCli(["--url", baseUrl, "--token", TOKEN, heartRate, notAvro, resolve(root, "no-such-file.avro")]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "package.json: refused 415 UNSUPPORTED_MEDIA_TYPE: The file is not an Avro object container file.",
    );
    expect(result.stdout).toContain("no-such-file.avro: not a readable file");
    expect(result.stdout).toMatch(/failed CORRUPT_DATA: block 4: varint longer than 10 bytes \(accepted 2000/);
  });

  it("refuses to run without a token or files (exit 2)", async () => {
    const noToken = await runCli(["--url", baseUrl, heartRate]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("no token");
    const noFiles = await runCli(["--token", TOKEN]);
    expect(noFiles.code).toBe(2);
    expect(noFiles.stderr).toContain("usage: npm run upload");
  });

  it("reports a wrong token as the server's refusal", async () => {
    const result = await runCli(["--url", baseUrl, "--token", "wrong", steps]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("refused 401 UNAUTHENTICATED: Sign in.");
  });
});
