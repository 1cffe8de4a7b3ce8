/**
 * Bench-only routes for the export part (bench/export.mjs), mounted by bench/worker.ts:
 *  - `POST /__bench/export/seed?month=<0-11>`: one month of a year of data into the caller's
 *    store straight through the HealthStore RPC (the upload path has its own bench): heart rate
 *    every minute, steps hourly, resting heart rate, HRV and weight daily, a night of sleep with
 *    stages, and a workout every other day. Twelve calls make the year (525,600 heart-rate samples).
 *  - `POST /__bench/export/read-all`: the reference, every page the export job reads, through the
 *    same RPC and page size, discarded: what reading the data costs without building the archive.
 */
import { type Context, Hono } from "hono";
import { healthStoreFor } from "../durable-objects/health-store/client";
import type { ExportPageQuery } from "../durable-objects/health-store/export";
import type { ObservationInput } from "../durable-objects/health-store/schema";
import type { SleepSessionInput, WorkoutInput } from "../durable-objects/health-store/session-schema";
import { authOf, requireAuth } from "../src/auth/middleware";
import { newId } from "../src/db/ids";
import type { AppEnv } from "../src/http/types";

const YEAR_START = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BATCH = 10_000;

const localDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function sample(metric: string, unit: string, start: number, value: number, record: string, end = start): ObservationInput {
  return {
    metric,
    unit,
    start,
    end,
    value,
    sourceKind: "upload",
    sourceApp: "com.google.android.apps.fitness",
    sourceRecordId: record,
    device: "Pixel Watch 3",
    zoneOffsetSeconds: 3600,
    localDate: localDate(start),
    version: 1,
  };
}

function monthObservations(month: number): ObservationInput[] {
  const from = Date.UTC(2025, month, 1);
  const to = Date.UTC(2025, month + 1, 1);
  const rows: ObservationInput[] = [];
  for (let t = from; t < to; t += MINUTE) {
    const minute = (t - YEAR_START) / MINUTE;
    // 10-minute records, as a watch writes them.
    rows.push(sample("heart_rate", "bpm", t, 55 + ((minute * 7) % 60), `hr-${Math.floor(minute / 10)}`));
  }
  for (let t = from; t < to; t += HOUR) rows.push(sample("steps", "count", t, (t / HOUR) % 900, `steps-${t}`, t + HOUR));
  for (let t = from; t < to; t += DAY) {
    rows.push(sample("resting_heart_rate", "bpm", t + 6 * HOUR, 52 + ((t / DAY) % 9), `rhr-${t}`));
    rows.push(sample("hrv_rmssd", "ms", t + 6 * HOUR, 30 + ((t / DAY) % 25), `hrv-${t}`));
    rows.push(sample("weight", "kg", t + 7 * HOUR, 70 + ((t / DAY) % 10) / 10, `weight-${t}`));
  }
  return rows;
}

function monthSessions(month: number): { sleepSessions: SleepSessionInput[]; workouts: WorkoutInput[] } {
  const sleepSessions: SleepSessionInput[] = [];
  const workouts: WorkoutInput[] = [];
  for (let day = Date.UTC(2025, month, 1); day < Date.UTC(2025, month + 1, 1); day += DAY) {
    const start = day - 2 * HOUR;
    const source = { sourceKind: "upload" as const, sourceApp: "com.google.android.apps.fitness", version: 1 };
    sleepSessions.push({
      ...source,
      sourceRecordId: `sleep-${day}`,
      start,
      end: start + 8 * HOUR,
      localDate: localDate(day),
      stages: [
        { stage: "light", start, end: start + 3 * HOUR },
        { stage: "deep", start: start + 3 * HOUR, end: start + 5 * HOUR },
        { stage: "rem", start: start + 5 * HOUR, end: start + 7 * HOUR },
        { stage: "light", start: start + 7 * HOUR, end: start + 8 * HOUR },
      ],
    });
    if ((day / DAY) % 2 === 0) {
      workouts.push({
        ...source,
        sourceRecordId: `run-${day}`,
        start: day + 17 * HOUR,
        end: day + 18 * HOUR,
        localDate: localDate(day),
        exerciseType: "running",
      });
    }
  }
  return { sleepSessions, workouts };
}

const SYSTEM = { role: "system" as const, reason: null, requestId: null, ip: null };

/**
 * A seed route's month (`?month=0..11`) and the signed-in bench user's store, or null when the
 * month is not one; `ingest` stores observations in batches of at most 10,000, as ingestion does.
 */
export function monthSeed(c: Context<AppEnv>) {
  const month = Number(c.req.query("month"));
  if (!Number.isInteger(month) || month < 0 || month > 11) return null;
  const userId = authOf(c).userId;
  const store = healthStoreFor(c.env.HEALTH_STORE, userId);
  const audit = { ...SYSTEM, actor: "bench", subject: userId };
  const ingest = async (observations: ObservationInput[]) => {
    for (let i = 0; i < observations.length; i += BATCH) {
      await store.ingestBatch({ observations: observations.slice(i, i + BATCH) }, audit);
    }
  };
  return { month, store, audit, ingest };
}

export function benchExportRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/seed", requireAuth(), async (c) => {
    const seed = monthSeed(c);
    if (seed === null) return c.json({ error: "month must be 0-11" }, 400);
    const { month, store, audit } = seed;
    const observations = monthObservations(month);
    await seed.ingest(observations);
    const sessions = monthSessions(month);
    await store.ingestBatch({ observations: [], ...sessions }, audit);
    return c.json({
      observations: observations.length,
      ...Object.fromEntries(Object.entries(sessions).map(([k, v]) => [k, v.length])),
    });
  });

  app.post("/read-all", requireAuth(), async (c) => {
    const userId = authOf(c).userId;
    const store = healthStoreFor(c.env.HEALTH_STORE, userId);
    const audit = { ...SYSTEM, actor: userId, role: authOf(c).role, subject: userId };
    const exportId = newId("exp");
    const { metrics } = await store.exportInventory(exportId, audit);
    const files: Omit<ExportPageQuery, "limit" | "cursor">[] = [
      ...metrics.map((metric) => ({ exportId, kind: "observations" as const, metric })),
      { exportId, kind: "sleep" },
      { exportId, kind: "workouts" },
      { exportId, kind: "access-log" },
    ];
    let rows = 0;
    let bytes = 0;
    for (const file of files) {
      let cursor: string | undefined;
      do {
        const page = await store.exportPage({ ...file, limit: 5_000, ...(cursor === undefined ? {} : { cursor }) }, audit);
        rows += page.count;
        bytes += page.lines.length;
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    }
    return c.json({ rows, bytes });
  });
  return app;
}
