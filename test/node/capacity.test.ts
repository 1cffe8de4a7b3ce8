import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  CONSTANTS,
  capacityModel,
  DEFAULT_ACTIVITY,
  largestLoadFile,
  measuredActivity,
  readLoad,
  renderSections,
  writeSections,
} from "../../bench/capacity.mjs";

const FIXTURE = "test/node/fixtures/load-sample.json";
const load = readLoad(FIXTURE);
const TEN_MILLION = 10_000_000;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "capacity-"));
  dirs.push(dir);
  return dir;
}

describe("the capacity model", () => {
  it("reproduces the harness's own day: D1 writes/s at 10M people = writes a person-day × 10M / 86,400", () => {
    // The harness's person-day leaves out its set-up sign-in.
    const model = capacityModel(load, { ...measuredActivity(load), signIns: 0, users: TEN_MILLION, peakToAverage: 1 });
    expect(model.perDay.d1Writes).toBeCloseTo(load.perUserDay.d1Writes, 9);
    expect(model.perDay.d1Reads).toBeCloseTo(load.perUserDay.d1Reads, 9);
    expect(model.perDay.workerRequests).toBeCloseTo(load.perUserDay.workerRequests, 9);
    const writes = model.limits.find((limit) => limit.name === "D1 writes, one primary");
    expect(writes?.rate).toBeCloseTo((load.perUserDay.d1Writes * TEN_MILLION) / 86_400, 6);
    const ingest = model.limits.find((limit) => limit.name === "Queue pulse-ingest");
    expect(ingest?.rate).toBeCloseTo((load.perUserDay.queueMessagesByQueue.INGEST * TEN_MILLION) / 86_400, 6);
  });

  it("scales each count by the activity it grows with, and applies the peak", () => {
    const base = capacityModel(load, { uploadSyncs: 4 });
    const double = capacityModel(load, { uploadSyncs: 8 });
    expect(double.perDay.queues.INGEST).toBeCloseTo(2 * (base.perDay.queues.INGEST ?? Number.NaN), 9);
    // The upload kinds' D1 writes (upload, its status polls, the ingest consumer) double; nothing else moves.
    const uploadWrites = ["upload", "upload-status", "queue:pulse-ingest", "queue:pulse-sync"].reduce(
      (sum, kind) => sum + load.perKind[kind].d1Writes / load.users,
      0,
    );
    expect(double.perDay.d1Writes - base.perDay.d1Writes).toBeCloseTo(4 * uploadWrites, 9);
    const peak = capacityModel(load, { peakToAverage: 3 });
    const flat = capacityModel(load, { peakToAverage: 1 });
    const rate = (model: typeof peak) => model.limits.find((limit) => limit.name === "D1 writes, one primary")?.rate ?? 0;
    expect(rate(peak)).toBeCloseTo(3 * rate(flat), 9);
  });

  it("adds provider deliveries at their cost from the code when the harness sent none", () => {
    const model = capacityModel(load, { webhookDeliveries: 8 });
    expect(model.perDay.queues.WEBHOOKS).toBe(8);
    expect(model.perDay.objects.WEBHOOK_LEDGER).toBe(8);
    expect(capacityModel(load, { webhookDeliveries: 0 }).perDay.queues.WEBHOOKS).toBe(0);
  });

  it("reads per-kind counts given per person-day the same as the harness's run totals", () => {
    const perPerson = structuredClone(load);
    for (const kind of Object.values(perPerson.perKind) as Record<string, number | Record<string, number>>[]) {
      for (const [field, value] of Object.entries(kind)) {
        kind[field] =
          typeof value === "number"
            ? value / load.users
            : Object.fromEntries(Object.entries(value).map(([key, count]) => [key, count / load.users]));
      }
    }
    const a = capacityModel(perPerson).perDay;
    const b = capacityModel(load).perDay;
    expect(a.d1Writes).toBeCloseTo(b.d1Writes, 9);
    expect(a.queues.INGEST).toBeCloseTo(b.queues.INGEST ?? Number.NaN, 9);
    expect(a.objects.HEALTH_STORE).toBeCloseTo(b.objects.HEALTH_STORE ?? Number.NaN, 9);
  });

  it("models a result whose kinds carry only requests and D1 counts from its perUserDay, each count by its cause", () => {
    const lean = structuredClone(load);
    for (const [name, kind] of Object.entries(load.perKind) as [
      string,
      { requests: number; d1Reads: number; d1Writes: number },
    ][]) {
      lean.perKind[name] = { requests: kind.requests, d1Reads: kind.d1Reads, d1Writes: kind.d1Writes };
    }
    const model = capacityModel(lean, { uploadSyncs: 4, webhookDeliveries: 0 });
    expect(model.perDay.queues.INGEST).toBeCloseTo(4 * load.perUserDay.queueMessagesByQueue.INGEST, 9);
    expect(model.perDay.r2ClassA).toBeCloseTo(4 * load.perUserDay.r2ClassA, 9);
    expect(model.perDay.d1Writes).toBeCloseTo(capacityModel(load, { uploadSyncs: 4, webhookDeliveries: 0 }).perDay.d1Writes, 9);
  });

  it("names the first binding limit and the number of people at which it binds", () => {
    const model = capacityModel(load);
    const a = DEFAULT_ACTIVITY;
    const filesPerSync = load.perKind.upload.requests / load.users;
    const d1BytesAfterAYear =
      load.storage.d1BytesPerUser + 365 * (a.uploadSyncs * filesPerSync * a.uploadRowBytes + a.signIns * a.securityEventBytes);
    expect(model.binding.name).toBe("D1 database size (10 GB), a year of history");
    expect(model.binding.usersAtLimit).toBeCloseTo(10e9 / d1BytesAfterAYear, 6);
    for (const limit of model.limits) expect(limit.usersAtLimit).toBeGreaterThanOrEqual(model.binding.usersAtLimit);
    expect(renderSections(model, "x").source).toContain("First binding limit: D1 database size (10 GB), a year of history");
  });

  it("prices a line as usage past the account's allowance, shared by everyone", () => {
    const model = capacityModel(load, { users: TEN_MILLION });
    const line = model.cost.items.find((item) => item.name === "D1 rows written");
    const monthly = model.perDay.d1RowsWritten * (365.25 / 12);
    const expected =
      ((monthly * TEN_MILLION - (CONSTANTS.d1RowsWrittenIncluded?.value ?? Number.NaN)) *
        (CONSTANTS.d1RowsWrittenPrice?.value ?? Number.NaN)) /
      1e6;
    expect(line?.dollars).toBeCloseTo(expected / TEN_MILLION, 12);
    const few = capacityModel(load, { users: 10 }).cost.items.find((item) => item.name === "D1 rows written");
    expect(few?.dollars).toBe(0);
    expect(model.cost.total).toBeCloseTo(
      model.cost.items.reduce((sum, item) => sum + item.dollars, 0),
      12,
    );
  });

  it("cites a source and a reading date for every limit and price", () => {
    for (const entry of Object.values(CONSTANTS)) {
      expect(entry.url).toMatch(/^https:\/\/developers\.cloudflare\.com\//);
      expect(entry.read).toBe("2026-12-07");
    }
  });
});

describe("node bench/capacity.mjs", () => {
  it("picks the load result with the largest N", () => {
    const dir = tempDir();
    for (const name of ["load-10.json", "load-1000.json", "load-100.json", "load-x.json", "other.json"]) {
      writeFileSync(join(dir, name), "{}");
    }
    expect(largestLoadFile(dir)).toBe(join(dir, "load-1000.json"));
    expect(largestLoadFile(join(dir, "missing"))).toBeNull();
  });

  it("--write replaces only what is between the markers, and says which file it read", () => {
    const dir = tempDir();
    const doc = join(dir, "scale.md");
    const original = readFileSync("docs/scale.md", "utf8");
    const stale = original.replace(
      /(<!-- capacity:limits:begin -->)[\s\S]*?(<!-- capacity:limits:end -->)/,
      "$1\nstale figures\n$2",
    );
    writeFileSync(doc, stale);
    const outside = (text: string) => text.replace(/<!-- capacity:(\w+):begin -->[\s\S]*?<!-- capacity:\1:end -->/g, "<$1>");
    const run = spawnSync(process.execPath, ["bench/capacity.mjs", "--write", "--file", FIXTURE, "--doc", doc], {
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`capacity: read ${FIXTURE}`);
    const written = readFileSync(doc, "utf8");
    expect(outside(written)).toBe(outside(stale));
    expect(written).not.toContain("stale figures");
    expect(written).toMatch(/^\| Shared resource +\|/m);
    expect(written).toContain(`\`${FIXTURE}\``);
  });

  it("refuses a doc without a section's markers rather than writing half of it", () => {
    expect(() => writeSections("no markers here", { limits: "x" })).toThrow(/capacity:limits:begin/);
    expect(writeSections("a\n<!-- capacity:limits:begin -->\nold\n<!-- capacity:limits:end -->\nb", { limits: "new" })).toBe(
      "a\n<!-- capacity:limits:begin -->\nnew\n<!-- capacity:limits:end -->\nb",
    );
  });

  it("fails, naming the file, when the result cannot be read", () => {
    const missing = join(tempDir(), "load-5.json");
    const run = spawnSync(process.execPath, ["bench/capacity.mjs", "--file", missing], { encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(missing);
    expect(run.stdout).toBe("");
  });
});
