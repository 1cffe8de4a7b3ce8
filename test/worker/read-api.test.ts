import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput, StoreAuditContext } from "../../durable-objects/health-store/schema";
import type { SleepSessionInput, WorkoutInput } from "../../durable-objects/health-store/session-schema";
import { registerObservationRoutes } from "../../src/observations/routes";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * The read API end to end: data written through the store's RPC as the ETL writes it, read back
 * over HTTP with exact values. Europe/Paris is UTC+1 in January, so 2026-01-15 there runs from
 * 2026-01-14T23:00Z to 2026-01-15T23:00Z.
 */
const app = createTestApp();
registerObservationRoutes(app);

const at = (iso: string) => Date.parse(iso);

function sample(
  metric: string,
  unit: string,
  iso: string,
  value: number,
  extra: Partial<ObservationInput> = {},
): ObservationInput {
  const start = at(iso);
  return observationInput(metric, unit, start, value, {
    device: "Watch",
    sourceRecordId: `${metric}-${iso}`,
    zoneOffsetSeconds: 3600,
    localDate: new Date(start + 3_600_000).toISOString().slice(0, 10),
    ...extra,
  });
}

const interval = (metric: string, unit: string, from: string, to: string, value: number) => ({
  ...sample(metric, unit, from, value),
  end: at(to),
});

const OBSERVATIONS: ObservationInput[] = [
  sample("heart_rate", "bpm", "2026-01-15T08:00:00Z", 60),
  sample("heart_rate", "bpm", "2026-01-15T08:20:00Z", 70),
  sample("heart_rate", "bpm", "2026-01-15T08:30:00Z", 250, { flagged: true }),
  sample("heart_rate", "bpm", "2026-01-15T08:40:00Z", 80),
  sample("heart_rate", "bpm", "2026-01-15T09:10:00Z", 90),
  // 00:30 on January 16 in Paris, still January 15 in UTC.
  sample("heart_rate", "bpm", "2026-01-15T23:30:00Z", 100, { localDate: "2026-01-16" }),
  interval("steps", "count", "2026-01-15T08:00:00Z", "2026-01-15T08:30:00Z", 1_000),
  interval("steps", "count", "2026-01-15T09:00:00Z", "2026-01-15T09:15:00Z", 500),
  interval("active_energy", "kcal", "2026-01-15T17:00:00Z", "2026-01-15T17:45:00Z", 300),
  sample("resting_heart_rate", "bpm", "2026-01-15T06:00:00Z", 52),
  sample("hrv_rmssd", "ms", "2026-01-15T03:00:00Z", 40),
  sample("hrv_rmssd", "ms", "2026-01-15T04:00:00Z", 50),
  sample("blood_glucose", "mg/dL", "2026-01-15T07:00:00Z", 65),
  sample("blood_glucose", "mg/dL", "2026-01-15T12:00:00Z", 100),
  sample("blood_glucose", "mg/dL", "2026-01-15T15:00:00Z", 150),
  sample("blood_glucose", "mg/dL", "2026-01-15T19:00:00Z", 190),
];

const session = { sourceKind: "upload", sourceApp: "com.example.health", version: 1, zoneOffsetSeconds: 3600 } as const;
const NIGHT: SleepSessionInput = {
  ...session,
  sourceRecordId: "sleep-night",
  start: at("2026-01-14T22:00:00Z"),
  end: at("2026-01-15T06:00:00Z"),
  localDate: "2026-01-15",
  stages: [
    { stage: "light", start: at("2026-01-14T22:00:00Z"), end: at("2026-01-14T23:00:00Z") },
    { stage: "deep", start: at("2026-01-14T23:00:00Z"), end: at("2026-01-15T01:00:00Z") },
    { stage: "rem", start: at("2026-01-15T01:00:00Z"), end: at("2026-01-15T02:00:00Z") },
    { stage: "awake", start: at("2026-01-15T02:00:00Z"), end: at("2026-01-15T02:15:00Z") },
    { stage: "light", start: at("2026-01-15T02:15:00Z"), end: at("2026-01-15T05:00:00Z") },
    { stage: "awake_in_bed", start: at("2026-01-15T05:00:00Z"), end: at("2026-01-15T06:00:00Z") },
  ],
};
const NAP: SleepSessionInput = {
  ...session,
  sourceRecordId: "sleep-nap",
  start: at("2026-01-15T13:00:00Z"),
  end: at("2026-01-15T13:30:00Z"),
  localDate: "2026-01-15",
  title: "Nap",
};
const RUN: WorkoutInput = {
  ...session,
  sourceRecordId: "run-1",
  exerciseType: "running",
  start: at("2026-01-15T17:00:00Z"),
  end: at("2026-01-15T17:45:00Z"),
  localDate: "2026-01-15",
  title: "Evening run",
};

function system(userId: string): StoreAuditContext {
  return { actor: "etl", role: "system", subject: userId, reason: null, requestId: null, ip: null };
}

async function userWithData(): Promise<SessionUser> {
  const user = await createSessionUser();
  const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
  await store.ingestBatch({ observations: OBSERVATIONS, sleepSessions: [NIGHT, NAP], workouts: [RUN] }, system(user.user.id));
  return user;
}

function get(user: SessionUser, path: string): Promise<Response> {
  return call(app, path, { headers: user.headers });
}

async function body<T>(res: Response): Promise<T> {
  if (res.status !== 200) expect.fail(`expected 200, got ${res.status}: ${await res.text()}`);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  return res.json<T>();
}

type Page = { items: Record<string, unknown>[]; nextCursor: string | null };
const DAY = "since=2026-01-15T00:00:00Z&until=2026-01-16T00:00:00Z";

describe("GET /v1/observations", () => {
  it("lists raw observations in order, flagged ones included, a page at a time", async () => {
    const user = await userWithData();
    const first = await body<Page>(await get(user, `/v1/observations?metrics=heart_rate&${DAY}&limit=4`));
    const rest = await body<Page>(
      await get(user, `/v1/observations?metrics=heart_rate&${DAY}&limit=4&cursor=${first.nextCursor ?? ""}`),
    );

    expect(first.items.map((obs) => [obs.start, obs.value, obs.flagged])).toEqual([
      ["2026-01-15T08:00:00.000Z", 60, false],
      ["2026-01-15T08:20:00.000Z", 70, false],
      ["2026-01-15T08:30:00.000Z", 250, true],
      ["2026-01-15T08:40:00.000Z", 80, false],
    ]);
    expect(rest).toMatchObject({ nextCursor: null });
    expect(rest.items.map((obs) => [obs.start, obs.value])).toEqual([
      ["2026-01-15T09:10:00.000Z", 90],
      ["2026-01-15T23:30:00.000Z", 100],
    ]);
    expect(first.items[0]).toEqual({
      id: expect.any(Number),
      metric: "heart_rate",
      start: "2026-01-15T08:00:00.000Z",
      end: "2026-01-15T08:00:00.000Z",
      value: 60,
      unit: "bpm",
      sourceKind: "upload",
      sourceApp: "com.example.health",
      sourceRecordId: "heart_rate-2026-01-15T08:00:00Z",
      device: "Watch",
      version: 1,
      zoneOffsetSeconds: 3600,
      localDate: "2026-01-15",
      flagged: false,
    });
  });

  it("aggregates hours per metric, with sum only where the metric adds up", async () => {
    const user = await userWithData();
    const page = await body<Page>(
      await get(
        user,
        "/v1/observations?metrics=heart_rate,steps&resolution=hour&since=2026-01-15T08:00:00Z&until=2026-01-15T10:00:00Z",
      ),
    );

    expect(page).toEqual({
      nextCursor: null,
      items: [
        {
          metric: "heart_rate",
          start: "2026-01-15T08:00:00.000Z",
          end: "2026-01-15T09:00:00.000Z",
          avg: 70,
          min: 60,
          max: 80,
          count: 3,
          unit: "bpm",
        },
        {
          metric: "steps",
          start: "2026-01-15T08:00:00.000Z",
          end: "2026-01-15T09:00:00.000Z",
          avg: 1_000,
          min: 1_000,
          max: 1_000,
          count: 1,
          sum: 1_000,
          unit: "count",
        },
        {
          metric: "heart_rate",
          start: "2026-01-15T09:00:00.000Z",
          end: "2026-01-15T10:00:00.000Z",
          avg: 90,
          min: 90,
          max: 90,
          count: 1,
          unit: "bpm",
        },
        {
          metric: "steps",
          start: "2026-01-15T09:00:00.000Z",
          end: "2026-01-15T10:00:00.000Z",
          avg: 500,
          min: 500,
          max: 500,
          count: 1,
          sum: 500,
          unit: "count",
        },
      ],
    });
  });

  it("buckets days from local midnight in the requested zone", async () => {
    const user = await userWithData();
    const paris = await body<Page>(
      await get(user, "/v1/observations?metrics=heart_rate&resolution=day&since=2026-01-15&until=2026-01-17&tz=Europe/Paris"),
    );
    const utc = await body<Page>(
      await get(user, "/v1/observations?metrics=heart_rate&resolution=day&since=2026-01-15&until=2026-01-17"),
    );

    expect(paris.items).toEqual([
      {
        metric: "heart_rate",
        start: "2026-01-15T00:00:00.000+01:00",
        end: "2026-01-16T00:00:00.000+01:00",
        avg: 75,
        min: 60,
        max: 90,
        count: 4,
        unit: "bpm",
      },
      {
        metric: "heart_rate",
        start: "2026-01-16T00:00:00.000+01:00",
        end: "2026-01-17T00:00:00.000+01:00",
        avg: 100,
        min: 100,
        max: 100,
        count: 1,
        unit: "bpm",
      },
    ]);
    expect(utc.items).toEqual([
      {
        metric: "heart_rate",
        start: "2026-01-15T00:00:00.000Z",
        end: "2026-01-16T00:00:00.000Z",
        avg: 80,
        min: 60,
        max: 100,
        count: 5,
        unit: "bpm",
      },
    ]);
  });

  it("gives a day of 23 hours to the spring DST change", async () => {
    const user = await createSessionUser();
    // Europe/Paris moves from +01:00 to +02:00 at 2026-03-29T01:00Z.
    await healthStoreFor(env.HEALTH_STORE, user.user.id).ingestBatch(
      {
        observations: [
          sample("heart_rate", "bpm", "2026-03-28T23:30:00Z", 61),
          sample("heart_rate", "bpm", "2026-03-29T21:30:00Z", 63),
          sample("heart_rate", "bpm", "2026-03-29T22:30:00Z", 65),
        ],
      },
      system(user.user.id),
    );

    const page = await body<Page>(
      await get(user, "/v1/observations?metrics=heart_rate&resolution=day&since=2026-03-29&until=2026-03-31&tz=Europe/Paris"),
    );

    expect(page.items.map((bucket) => [bucket.start, bucket.end, bucket.count, bucket.avg])).toEqual([
      ["2026-03-29T00:00:00.000+01:00", "2026-03-30T00:00:00.000+02:00", 2, 62],
      ["2026-03-30T00:00:00.000+02:00", "2026-03-31T00:00:00.000+02:00", 1, 65],
    ]);
  });

  it("refuses unknown metrics (naming them), reversed ranges, bad zones and over-long raw ranges", async () => {
    const user = await createSessionUser();
    const cases: [string, { path: string; message: string }][] = [
      ["metrics=heart_rate,bogus,nope", { path: "metrics", message: "unknown metric codes: bogus, nope" }],
      [
        "metrics=heart_rate&since=2026-01-16T00:00:00Z&until=2026-01-15T00:00:00Z",
        { path: "since", message: "since must not be after until" },
      ],
      ["metrics=heart_rate&tz=Mars/Olympus_Mons", { path: "tz", message: "not an IANA time zone, a ±HH:MM offset or UTC" }],
      [
        "metrics=heart_rate&since=2026-01-01&until=2026-02-02",
        { path: "until", message: "raw observations span at most 31 days" },
      ],
      ["metrics=heart_rate&since=yesterday", { path: "since", message: expect.stringContaining("not an ISO 8601") }],
    ];
    for (const [query, error] of cases) {
      const res = await get(user, `/v1/observations?${query}`);
      await expectProblem(res.clone(), 400, "VALIDATION_FAILED");
      expect((await res.json<{ errors: unknown[] }>()).errors).toEqual([error]);
    }
    await expectProblem(await get(user, "/v1/observations?metrics=heart_rate&resolution=minute"), 400, "VALIDATION_FAILED");
  });
});

describe("GET /v1/observations/latest", () => {
  it("answers the most recent observation of each metric that has one", async () => {
    const user = await userWithData();
    const latest = await body<{ items: Record<string, unknown>[] }>(
      await get(user, "/v1/observations/latest?metrics=heart_rate,steps,weight"),
    );
    expect(latest.items.map((obs) => [obs.metric, obs.start, obs.value])).toEqual([
      ["heart_rate", "2026-01-15T23:30:00.000Z", 100],
      ["steps", "2026-01-15T09:00:00.000Z", 500],
    ]);
  });
});

describe("GET /v1/sleep and /v1/workouts", () => {
  it("lists sleep sessions with stages and totals per stage", async () => {
    const user = await userWithData();
    const page = await body<Page>(await get(user, `/v1/sleep?${DAY}`));

    expect(page.nextCursor).toBeNull();
    expect(page.items.map((item) => [item.sourceRecordId, item.start, item.end, item.totals])).toEqual([
      [
        "sleep-night",
        "2026-01-14T22:00:00.000Z",
        "2026-01-15T06:00:00.000Z",
        {
          inBedSeconds: 28_800,
          asleepSeconds: 24_300,
          stages: { light: 13_500, deep: 7_200, rem: 3_600, awake: 900, awake_in_bed: 3_600 },
        },
      ],
      [
        "sleep-nap",
        "2026-01-15T13:00:00.000Z",
        "2026-01-15T13:30:00.000Z",
        { inBedSeconds: 1_800, asleepSeconds: 1_800, stages: {} },
      ],
    ]);
    expect(page.items[0]?.stages).toEqual(
      NIGHT.stages?.map((stage) => ({
        stage: stage.stage,
        start: new Date(stage.start).toISOString(),
        end: new Date(stage.end).toISOString(),
      })),
    );
  });

  it("lists workouts with their exercise type and duration", async () => {
    const user = await userWithData();
    const page = await body<Page>(await get(user, `/v1/workouts?${DAY}`));
    expect(page.items).toEqual([
      {
        id: expect.any(Number),
        exerciseType: "running",
        start: "2026-01-15T17:00:00.000Z",
        end: "2026-01-15T17:45:00.000Z",
        durationSeconds: 2_700,
        title: "Evening run",
        notes: null,
        sourceKind: "upload",
        sourceApp: "com.example.health",
        sourceRecordId: "run-1",
        device: null,
        version: 1,
        zoneOffsetSeconds: 3600,
        localDate: "2026-01-15",
        flagged: false,
      },
    ]);
  });
});

describe("GET /v1/summary/daily", () => {
  it("summarizes a local day, its edges at local midnight", async () => {
    const user = await userWithData();
    const summary = await body<Record<string, unknown>>(await get(user, "/v1/summary/daily?date=2026-01-15&tz=Europe/Paris"));

    expect(summary).toMatchObject({
      date: "2026-01-15",
      timeZone: "Europe/Paris",
      start: "2026-01-15T00:00:00.000+01:00",
      end: "2026-01-16T00:00:00.000+01:00",
      steps: 1_500,
      activeEnergy: 300,
      totalEnergy: null,
      // The flagged 250 is left out, and 23:30Z is already January 16 in Paris.
      heartRate: { avg: 75, min: 60, max: 90, count: 4 },
      restingHeartRate: 52,
      hrvRmssd: 45,
      hrvSdnn: null,
      glucose: { avg: 126.25, min: 65, max: 190, count: 4, timeInRangePercent: 50 },
      sleep: {
        sessions: 2,
        inBedSeconds: 30_600,
        asleepSeconds: 26_100,
        stages: { light: 13_500, deep: 7_200, rem: 3_600, awake: 900, awake_in_bed: 3_600 },
      },
      workouts: { count: 1, durationSeconds: 2_700 },
      units: { steps: "count", heartRate: "bpm", glucose: "mg/dL", durations: "s" },
    });
  });

  it("counts the sample after UTC midnight in the UTC day", async () => {
    const user = await userWithData();
    const summary = await body<Record<string, unknown>>(await get(user, "/v1/summary/daily?date=2026-01-15"));
    expect(summary).toMatchObject({
      timeZone: "UTC",
      start: "2026-01-15T00:00:00.000Z",
      heartRate: { avg: 80, min: 60, max: 100, count: 5 },
    });
  });

  it("refuses a malformed date and an unknown zone", async () => {
    const user = await createSessionUser();
    await expectProblem(await get(user, "/v1/summary/daily?date=2026-02-30"), 400, "VALIDATION_FAILED");
    await expectProblem(await get(user, "/v1/summary/daily?date=2026-01-15&tz=Nowhere/Town"), 400, "VALIDATION_FAILED");
    await expectProblem(await get(user, "/v1/summary/daily"), 400, "VALIDATION_FAILED");
  });
});
