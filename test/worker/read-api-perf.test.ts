import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { packObservations } from "../../durable-objects/health-store/packed";
import type { ObservationInput } from "../../durable-objects/health-store/schema";
import { registerObservationRoutes } from "../../src/observations/routes";
import { createSessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * The read bench/query.mjs measures (question (c) of docs/benchmarks.md): 30 days of hourly heart rate over HTTP, from a
 * minute-level series (43,200 samples). Latencies are printed for docs/benchmarks.md, never
 * asserted; the assertions are about the answer.
 */
const app = createTestApp();
registerObservationRoutes(app);
const T0 = Date.UTC(2026, 0, 1);

describe("GET /v1/observations at volume", () => {
  it("answers 30 days of hourly heart rate from a minute-level series", async () => {
    const user = await createSessionUser();
    const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
    const samples: ObservationInput[] = Array.from({ length: 30 * 1440 }, (_, i) => ({
      metric: "heart_rate",
      start: T0 + i * 60_000,
      end: T0 + i * 60_000,
      value: 50 + (i % 60),
      unit: "bpm",
      sourceKind: "upload",
      sourceApp: "com.google.android.apps.fitness",
      sourceRecordId: `hr-${Math.floor(i / 60)}`,
      localDate: new Date(T0 + i * 60_000).toISOString().slice(0, 10),
      version: 1,
    }));
    const audit = { actor: "etl", role: "system" as const, subject: user.user.id, reason: null, requestId: null, ip: null };
    for (let i = 0; i < samples.length; i += 10_000) {
      await store.ingestBatch({ observations: packObservations(samples.slice(i, i + 10_000)) }, audit);
    }
    const path =
      "/v1/observations?metrics=heart_rate&resolution=hour&since=2026-01-01T00:00:00Z&until=2026-01-31T00:00:00Z&tz=Europe/Paris";

    const durations: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 60; i++) {
      const started = performance.now();
      last = await call(app, path, { headers: user.headers });
      await last.clone().arrayBuffer();
      if (i >= 10) durations.push(performance.now() - started);
    }
    durations.sort((a, b) => a - b);
    const pick = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]?.toFixed(1);
    console.log(`GET 30-day hourly heart rate over HTTP (43,200 samples): p50 ${pick(0.5)} ms, p99 ${pick(0.99)} ms`);

    const page = await last?.json<{ items: { start: string; count: number; avg: number }[]; nextCursor: string | null }>();
    expect(page?.items).toHaveLength(720);
    expect(page?.items[0]).toMatchObject({ start: "2026-01-01T01:00:00.000+01:00", count: 60, avg: 79.5 });
    expect(page?.nextCursor).toBeNull();
  }, 120_000);
});
