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
    const model = capacityModel(load, { ...measuredActivity(load), users: TEN_MILLION, peakToAverage: 1 });
    expect(model.perDay.d1Writes).toBe(load.perUserDay.d1Writes);
    expect(model.perDay.d1Reads).toBe(load.perUserDay.d1Reads);
    const writes = model.limits.find((limit) => limit.name === "D1 writes, one primary");
    expect(writes?.rate).toBeCloseTo((load.perUserDay.d1Writes * TEN_MILLION) / 86_400, 6);
    const ingest = model.limits.find((limit) => limit.name === "Queue pulse-ingest");
    expect(ingest?.rate).toBeCloseTo((load.perUserDay.queueMessagesByQueue["pulse-ingest"] * TEN_MILLION) / 86_400, 6);
  });

  it("scales each count by the activity it grows with, and applies the peak", () => {
    const base = capacityModel(load, { uploadSyncs: 4 });
    const double = capacityModel(load, { uploadSyncs: 8 });
    expect(double.perDay.queues["pulse-ingest"]).toBeCloseTo(2 * (base.perDay.queues["pulse-ingest"] ?? Number.NaN), 9);
    // The upload kinds' D1 writes (upload, its status polls, the ingest consumer) double; nothing else moves.
    const uploadWrites = ["upload", "upload-status", "queue:pulse-ingest", "queue:pulse-sync"].reduce(
      (sum, kind) => sum + load.perKind[kind].d1Writes,
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
    expect(model.perDay.queues["pulse-webhooks"]).toBe(8);
    expect(model.perDay.objects.WEBHOOK_LEDGER).toBe(8);
    expect(capacityModel(load, { webhookDeliveries: 0 }).perDay.queues["pulse-webhooks"]).toBe(0);
  });

  it("reads per-kind counts written as run totals the same as per person-day", () => {
    const totals = structuredClone(load);
    for (const kind of Object.values(totals.perKind) as { requests: number; d1Reads: number; d1Writes: number }[]) {
      kind.requests *= load.users;
      kind.d1Reads *= load.users;
      kind.d1Writes *= load.users;
    }
    expect(capacityModel(totals).perDay).toEqual(capacityModel(load).perDay);
  });

  it("names the first binding limit and the number of people at which it binds", () => {
    const model = capacityModel(load);
    const a = DEFAULT_ACTIVITY;
    const filesPerSync = load.perKind.upload.requests;
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
