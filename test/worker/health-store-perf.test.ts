import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { packObservations } from "../../durable-objects/health-store/packed";
import type { ObservationInput, StoreAuditContext } from "../../durable-objects/health-store/schema";
import { newId } from "../../src/db/ids";

/**
 * Volume checks for the HealthStore: a week of 6-second heart rate (~100k samples) through
 * `ingestBatch` in batches of 10,000 as the ETL sends them, and a 30-day hourly read of a
 * minute-level series. The timings are printed for docs/benchmarks.md, never asserted (the machine
 * is shared); the assertions are about what was stored and read.
 */
const T0 = Date.UTC(2026, 0, 1);
const BATCH = 10_000;

function owner(userId: string): StoreAuditContext {
  return { actor: userId, role: "patient", subject: userId, reason: null, requestId: null, ip: null };
}

/** Records of `perRecord` samples every `stepMs`, as a Health Connect heart-rate series. */
function heartRateSeries(count: number, stepMs: number, perRecord: number): ObservationInput[] {
  return Array.from({ length: count }, (_, i) => {
    const start = T0 + i * stepMs;
    return {
      metric: "heart_rate",
      start,
      end: start,
      value: 50 + (i % 60),
      unit: "bpm",
      sourceKind: "upload",
      sourceApp: "com.google.android.apps.fitness",
      device: "Pixel Watch 3",
      sourceRecordId: `0f8c2a8e-5d0b-4c47-9a55-${String(Math.floor(i / perRecord)).padStart(12, "0")}`,
      zoneOffsetSeconds: 3600,
      localDate: new Date(start + 3_600_000).toISOString().slice(0, 10),
      version: 1_767_225_600_000,
    };
  });
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  console.log(`${label}: ${(performance.now() - started).toFixed(0)} ms`);
  return result;
}

describe("HealthStore at volume", () => {
  it("ingests 100k samples in 10k batches, and the same again as duplicates", async () => {
    const userId = newId("usr");
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    const samples = heartRateSeries(100_000, 6_000, 100);
    const batches = Array.from({ length: samples.length / BATCH }, (_, i) => samples.slice(i * BATCH, (i + 1) * BATCH));

    const first = await timed("ingestBatch 100k new samples (packed)", async () => {
      const results = [];
      for (const batch of batches)
        results.push(await store.ingestBatch({ observations: packObservations(batch) }, owner(userId)));
      return results;
    });
    const again = await timed("ingestBatch 100k duplicates (packed)", async () => {
      const results = [];
      for (const batch of batches)
        results.push(await store.ingestBatch({ observations: packObservations(batch) }, owner(userId)));
      return results;
    });
    const asObjects = await timed("ingestBatch 100k duplicates (objects)", async () => {
      const results = [];
      for (const observations of batches) results.push(await store.ingestBatch({ observations }, owner(userId)));
      return results;
    });

    expect(first.reduce((n, result) => n + result.observations.accepted, 0)).toBe(100_000);
    expect(again.reduce((n, result) => n + result.observations.duplicate, 0)).toBe(100_000);
    expect(asObjects.reduce((n, result) => n + result.observations.duplicate, 0)).toBe(100_000);
    const week = await store.queryObservations(
      { metrics: ["heart_rate"], resolution: "day", since: T0, until: T0 + 7 * 86_400_000, limit: 10 },
      owner(userId),
    );
    // 14,400 samples a day cycling through 50..109; the last day holds 13,600: 226 cycles and 50..89.
    const lastDaySum = 226 * 4_770 + (40 * (50 + 89)) / 2;
    expect(week.items.map((bucket) => ("count" in bucket ? [bucket.count, bucket.sum, bucket.min, bucket.max] : []))).toEqual([
      ...Array.from({ length: 6 }, () => [14_400, 240 * 4_770, 50, 109]),
      [13_600, lastDaySum, 50, 109],
    ]);
  }, 120_000);

  it("answers a 30-day hourly query over a minute-level series from the rollups", async () => {
    const userId = newId("usr");
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    const samples = heartRateSeries(30 * 1440, 60_000, 60);
    for (let i = 0; i < samples.length; i += BATCH) {
      await store.ingestBatch({ observations: packObservations(samples.slice(i, i + BATCH)) }, owner(userId));
    }
    const query = { metrics: ["heart_rate"], resolution: "hour" as const, since: T0, until: T0 + 30 * 86_400_000, limit: 1_000 };

    const durations: number[] = [];
    let page = await store.queryObservations(query, owner(userId));
    for (let i = 0; i < 50; i++) {
      const started = performance.now();
      page = await store.queryObservations(query, owner(userId));
      durations.push(performance.now() - started);
    }
    durations.sort((a, b) => a - b);
    console.log(
      `30-day hourly RPC over 43,200 samples: p50 ${durations[25]?.toFixed(1)} ms, p99 ${durations[49]?.toFixed(1)} ms`,
    );

    expect(page.items).toHaveLength(720);
    expect(page.items[0]).toEqual({
      metric: "heart_rate",
      start: T0,
      end: T0 + 3_600_000,
      count: 60,
      sum: 4770,
      min: 50,
      max: 109,
      avg: 79.5,
    });
    expect(page.nextCursor).toBeNull();
  }, 120_000);
});
