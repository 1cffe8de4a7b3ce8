import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * `npm run load` for two people with no pauses, against the real bench Worker in a local workerd:
 * what someone running the harness reads in its table and JSON, checked against what the harness
 * sent (a day of one heart-rate sample a minute, 24 hourly step counts, one night, a glucose
 * reading every 5 minutes: 1,753 samples a person).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SAMPLES_PER_PERSON = 1440 + 24 + 1 + 288;
const PEOPLE = 2;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir = "";
let run: Run;
// biome-ignore lint/suspicious/noExplicitAny: the JSON is checked field by field below.
let result: any;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pulse-load-test-"));
  const out = join(dir, "load.json");
  run = await new Promise<Run>((resolvePromise) => {
    const child = spawn(
      process.execPath,
      [
        "bench/users.mjs",
        "--users",
        String(PEOPLE),
        "--think-ms",
        "0",
        "--arrival-rate",
        "0",
        "--time-limit",
        "90",
        "--settle-limit",
        "0",
        "--out",
        out,
      ],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("exit", (code) => resolvePromise({ code, stdout, stderr }));
  });
  if (run.code === 0) result = JSON.parse(readFileSync(out, "utf8"));
}, 150_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("npm run load -- --users 2", () => {
  it("completes every person's day and prints the tables", () => {
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stdout).toContain("| request | count | p50 ms | p99 ms |");
    expect(run.stdout).toContain("| kind | requests | D1 reads | D1 writes | D1 writes/request |");
  });

  it("counts every upload ingested, and as many observations written as samples sent", () => {
    expect(result.users).toBe(PEOPLE);
    expect(result.samplesGenerated).toBe(PEOPLE * SAMPLES_PER_PERSON);
    expect(result.observationsWritten).toBe(PEOPLE * SAMPLES_PER_PERSON);
    expect(result.storage.samplesStored).toBe(PEOPLE * SAMPLES_PER_PERSON);
    expect(result.latency.upload.count).toBe(PEOPLE * 4);
    // Each upload is polled until completed: at least once each.
    expect(result.latency["upload-status"].count).toBeGreaterThanOrEqual(PEOPLE * 4);
    for (const kind of ["session", "latest", "summary", "series", "refresh"]) expect(result.latency[kind].count).toBe(PEOPLE);
  });

  it("reports the Worker's own counts where an upload must cost something", () => {
    const perUserDay = result.perUserDay;
    expect(result.perKind.upload.requests).toBe(PEOPLE * 4);
    expect(result.perKind.upload.d1Writes).toBeGreaterThan(0);
    expect(result.perKind["queue:pulse-ingest"].d1Writes).toBeGreaterThan(0);
    expect(perUserDay.d1Writes).toBeGreaterThan(0);
    expect(perUserDay.d1RowsWritten).toBeGreaterThan(0);
    // The raw file is kept in R2 and read back by the ingest job; one ingest message per upload.
    expect(perUserDay.r2ClassA).toBeGreaterThanOrEqual(4);
    expect(perUserDay.r2ClassB).toBeGreaterThanOrEqual(4);
    expect(perUserDay.queueMessagesByQueue.INGEST).toBeGreaterThanOrEqual(4);
    expect(perUserDay.durableObjectRequestsByNamespace.HEALTH_STORE).toBeGreaterThan(0);
    // The bench-only session route is set-up, not a user-day's cost: 4 uploads, their polls and 4 more.
    expect(perUserDay.workerRequests).toBeGreaterThanOrEqual(12);
    expect(result.cpuMsPerUser).toBeGreaterThan(0);
    expect(result.storage.healthStoreBytesPerSample).toBeGreaterThan(0);
  });

  it("writes the JSON fields the capacity model reads", () => {
    for (const key of [
      "users",
      "elapsedSeconds",
      "usersPerSecond",
      "observationsWritten",
      "observationsPerSecond",
      "latency",
      "cpuMsPerUser",
      "perUserDay",
      "perKind",
      "storage",
      "gitRevision",
      "measuredAt",
      "machine",
    ])
      expect(result).toHaveProperty(key);
    for (const key of [
      "d1Reads",
      "d1Writes",
      "d1RowsRead",
      "d1RowsWritten",
      "queueMessages",
      "queueMessagesByQueue",
      "r2ClassA",
      "r2ClassB",
      "durableObjectRequests",
      "durableObjectRequestsByNamespace",
      "workerRequests",
    ])
      expect(result.perUserDay).toHaveProperty(key);
    for (const key of ["samplesStored", "healthStoreBytesPerSample", "d1BytesPerUser", "r2BytesPerUserDay"])
      expect(result.storage).toHaveProperty(key);
    for (const kind of Object.values(result.latency) as { count: number; p50Ms: number; p99Ms: number }[]) {
      expect(kind.p50Ms).toBeGreaterThan(0);
      expect(kind.p99Ms).toBeGreaterThanOrEqual(kind.p50Ms);
    }
  });
});
