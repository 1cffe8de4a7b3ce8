/**
 * Bench-only route for the fhir and narratives parts (bench/fhir.mjs), mounted by bench/worker.ts:
 * `POST /__bench/fhir/seed?month=<0-11>` writes one month of a year of data into the caller's
 * store straight through the HealthStore RPC: heart rate every minute from a watch (twelve calls
 * make 525,600 samples) and, over the last 90 days of the year, a CGM reading every 5 minutes
 * (25,920 in all).
 */
import { Hono } from "hono";
import type { ObservationInput } from "../durable-objects/health-store/schema";
import { requireAuth } from "../src/auth/middleware";
import type { AppEnv } from "../src/http/types";
import { monthSeed } from "./export-year";

export const FHIR_YEAR = 2025;
const MINUTE = 60_000;
const DAY = 86_400_000;
const YEAR_START = Date.UTC(FHIR_YEAR, 0, 1);
const CGM_START = Date.UTC(FHIR_YEAR + 1, 0, 1) - 90 * DAY;

function sample(metric: string, unit: string, start: number, value: number, record: string, source: [string, string]) {
  const [sourceApp, device] = source;
  return {
    metric,
    unit,
    start,
    end: start,
    value,
    sourceKind: "upload",
    sourceApp,
    sourceRecordId: record,
    device,
    zoneOffsetSeconds: 3600,
    localDate: new Date(start + 3_600_000).toISOString().slice(0, 10),
    version: 1,
  } satisfies ObservationInput;
}

const WATCH: [string, string] = ["com.google.android.apps.fitness", "Pixel Watch 3"];
const CGM: [string, string] = ["com.dexcom.g7", "Dexcom G7"];

function monthRows(month: number): ObservationInput[] {
  const from = Date.UTC(FHIR_YEAR, month, 1);
  const to = Date.UTC(FHIR_YEAR, month + 1, 1);
  const rows: ObservationInput[] = [];
  for (let t = from; t < to; t += MINUTE) {
    const minute = (t - YEAR_START) / MINUTE;
    // 10-minute records, as a watch writes them; a daily swing between ~55 and ~115 bpm.
    rows.push(sample("heart_rate", "bpm", t, 55 + ((minute * 7) % 60), `hr-${Math.floor(minute / 10)}`, WATCH));
  }
  for (let t = Math.max(from, CGM_START); t < to; t += 5 * MINUTE) {
    const step = (t - CGM_START) / (5 * MINUTE);
    // 60-250 mg/dL over each day, so every glucose band of a narrative has readings.
    rows.push(sample("blood_glucose", "mg/dL", t, 60 + ((step * 13) % 190), `cgm-${Math.floor(step / 12)}`, CGM));
  }
  return rows;
}

export function benchFhirRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/seed", requireAuth(), async (c) => {
    const seed = monthSeed(c);
    if (seed === null) return c.json({ error: "month must be 0-11" }, 400);
    const rows = monthRows(seed.month);
    await seed.ingest(rows);
    const count = (metric: string) => rows.filter((row) => row.metric === metric).length;
    return c.json({ heartRate: count("heart_rate"), glucose: count("blood_glucose") });
  });
  return app;
}
