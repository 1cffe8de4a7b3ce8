import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AnalysisQuery } from "../../durable-objects/health-store/analysis";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput, StoreAuditContext } from "../../durable-objects/health-store/schema";
import { observationInput } from "./helpers/observations";

/**
 * HealthStore.analysisDataset: what a confidential-AI question may read — the named metrics in the
 * window, unflagged, as columns; quarter-hour rollups past the sample budget; one `ai.query` event.
 */
const T0 = Date.UTC(2026, 10, 2);
const SLOT = 900_000;

function audit(subject: string): StoreAuditContext {
  return { actor: subject, role: "patient", subject, reason: null, requestId: null, ip: null };
}

const sample = observationInput;

async function storeWith(observations: ObservationInput[]) {
  const subject = `usr_${crypto.randomUUID()}`;
  const store = healthStoreFor(env.HEALTH_STORE, subject);
  await store.ingest(observations, audit(subject));
  return { store, subject };
}

describe("HealthStore.analysisDataset", () => {
  const observations = [
    sample("heart_rate", "bpm", T0 + 60_000, 60),
    sample("heart_rate", "bpm", T0 + 120_000, 70),
    sample("heart_rate", "bpm", T0 + 180_000, 250, { flagged: true }),
    sample("heart_rate", "bpm", T0 + SLOT + 60_000, 90),
    sample("heart_rate", "bpm", T0 + 10 * SLOT, 99), // outside the window below
    { ...sample("steps", "count", T0, 100), end: T0 + 60_000 },
    { ...sample("steps", "count", T0 + 300_000, 50), end: T0 + 360_000 },
    sample("resting_heart_rate", "bpm", T0 + 60_000, 55),
  ];
  const window = { since: T0, until: T0 + 2 * SLOT };

  it("reads only the metrics named, within the window, without flagged samples, and audits the categories", async () => {
    const { store, subject } = await storeWith(observations);
    const dataset = await store.analysisDataset(
      { metrics: ["heart_rate"], sleep: false, ...window, maxPointsPerMetric: 100 },
      audit(subject),
    );
    expect(dataset).toEqual({
      metrics: {
        heart_rate: {
          unit: "bpm",
          resolution: "sample",
          start: [T0 + 60_000, T0 + 120_000, T0 + SLOT + 60_000],
          end: [T0 + 60_000, T0 + 120_000, T0 + SLOT + 60_000],
          value: [60, 70, 90],
        },
      },
    });
    const log = await store.accessLog({ limit: 10 });
    expect(log.items[0]).toMatchObject({
      action: "ai.query",
      resource: "ai;p=2026-11-02T00:00:00.000Z/2026-11-02T00:30:00.000Z;m=heart_rate",
      actor: subject,
      result: "success",
    });
  });

  it("sends quarter-hour rollups past the sample budget: means for levels, sums for quantities", async () => {
    const { store, subject } = await storeWith(observations);
    const dataset = await store.analysisDataset(
      { metrics: ["heart_rate", "steps"], sleep: false, ...window, maxPointsPerMetric: 1 },
      audit(subject),
    );
    expect(dataset.metrics.heart_rate).toEqual({
      unit: "bpm",
      resolution: "quarter_hour",
      start: [T0, T0 + SLOT],
      end: [T0 + SLOT, T0 + 2 * SLOT],
      value: [65, 90],
    });
    expect(dataset.metrics.steps).toMatchObject({ resolution: "quarter_hour", start: [T0], value: [150] });
    expect((await store.accessLog({ limit: 1 })).items[0]?.resource).toBe(
      "ai;p=2026-11-02T00:00:00.000Z/2026-11-02T00:30:00.000Z;m=heart_rate,steps",
    );
  });

  it("includes sleep sessions when asked, and records a query that read nothing", async () => {
    const { store, subject } = await storeWith(observations);
    expect(await store.analysisDataset({ metrics: [], sleep: true, ...window, maxPointsPerMetric: 10 }, audit(subject))).toEqual({
      metrics: {},
      sleep: [],
    });
    expect(await store.analysisDataset({ metrics: [], sleep: false, ...window, maxPointsPerMetric: 10 }, audit(subject))).toEqual(
      {
        metrics: {},
      },
    );
    const resources = (await store.accessLog({ limit: 2 })).items.map((event) => event.resource);
    expect(resources).toEqual([
      "ai;p=2026-11-02T00:00:00.000Z/2026-11-02T00:30:00.000Z",
      "ai;p=2026-11-02T00:00:00.000Z/2026-11-02T00:30:00.000Z;m=sleep",
    ]);
  });

  it("refuses unknown metrics and reversed windows", async () => {
    const { store, subject } = await storeWith(observations);
    for (const query of [
      { metrics: ["not_a_metric"], sleep: false, ...window, maxPointsPerMetric: 10 },
      { metrics: ["heart_rate"], sleep: false, since: window.until, until: window.since, maxPointsPerMetric: 10 },
    ]) {
      const error = await store.analysisDataset(query as AnalysisQuery, audit(subject)).catch((thrown: unknown) => thrown);
      expect(error).toMatchObject({ code: "VALIDATION_FAILED" });
    }
  });
});
