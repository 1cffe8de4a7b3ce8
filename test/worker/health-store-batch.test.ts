import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HealthStore } from "../../durable-objects/health-store";
import { type HealthStoreClient, healthStoreFor } from "../../durable-objects/health-store/client";
import { packObservations } from "../../durable-objects/health-store/packed";
import type { ObservationInput, StoreAuditContext } from "../../durable-objects/health-store/schema";
import type { SleepSessionInput, WorkoutInput } from "../../durable-objects/health-store/session-schema";
import { newId } from "../../src/db/ids";
import { DomainError } from "../../src/errors/domain-error";

const T0 = Date.UTC(2026, 0, 15, 6, 0, 0);
const HOUR = 3_600_000;

function freshStore() {
  const userId = newId("usr");
  return { userId, store: healthStoreFor(env.HEALTH_STORE, userId) };
}

function etl(userId: string): StoreAuditContext {
  return { actor: "etl", role: "system", subject: userId, reason: null, requestId: "req-etl", ip: null };
}

function heartRate(recordId: string, minute: number, value: number, version = 1): ObservationInput {
  const start = T0 + minute * 60_000;
  return {
    metric: "heart_rate",
    start,
    end: start,
    value,
    unit: "bpm",
    sourceKind: "upload",
    sourceApp: "com.google.android.apps.fitness",
    sourceRecordId: recordId,
    localDate: "2026-01-15",
    version,
  };
}

function night(version: number, stages: SleepSessionInput["stages"]): SleepSessionInput {
  return {
    sourceKind: "upload",
    sourceApp: "com.google.android.apps.fitness",
    sourceRecordId: "sleep-1",
    version,
    start: T0 - 8 * HOUR,
    end: T0,
    localDate: "2026-01-15",
    stages,
  };
}

function run(version: number, minutes: number): WorkoutInput {
  return {
    sourceKind: "provider",
    sourceApp: "strava",
    sourceRecordId: "activity-9",
    version,
    exerciseType: "running",
    start: T0 + HOUR,
    end: T0 + HOUR + minutes * 60_000,
    localDate: "2026-01-15",
  };
}

/**
 * The store's own refusal: a refused argument reaches callers as a generic VALIDATION_FAILED whose
 * `cause` is what the store said, with the argument's paths (durable-objects/health-store/client.ts).
 */
function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error("expected a rejection"),
    (error: unknown) => (error instanceof Error && error.cause instanceof DomainError ? error.cause : error),
  );
}

const RANGE = { since: T0 - 24 * HOUR, until: T0 + 24 * HOUR };

describe("HealthStore ingestBatch", () => {
  it("writes observations, sleep and workouts in one transaction with one audit event", async () => {
    const { userId, store } = freshStore();
    const result = await store.ingestBatch(
      {
        observations: [heartRate("hr", 0, 60), heartRate("hr", 1, 62)],
        sleepSessions: [night(1, [{ stage: "deep", start: T0 - 8 * HOUR, end: T0 - 6 * HOUR }])],
        workouts: [run(1, 30)],
      },
      etl(userId),
    );

    expect(result).toEqual({
      observations: { accepted: 2, duplicate: 0, replaced: 0 },
      sleepSessions: { accepted: 1, duplicate: 0, replaced: 0 },
      workouts: { accepted: 1, duplicate: 0, replaced: 0 },
      // Something was stored: the caller is to queue a narrative refresh.
      narrativesRefresh: true,
    });
    const log = await store.accessLog();
    expect(log.items).toHaveLength(1);
    expect(log.items[0]).toMatchObject({
      action: "observations.write",
      resource: expect.stringMatching(/^observations;p=[^;]+;m=[a-z_,]+,sleep,workout$/),
      actor: "etl",
    });
  });

  it("replaces a sleep session whole with a newer version, keeping its id, and ignores same and older ones", async () => {
    const { userId, store } = freshStore();
    const v2Stages = [
      { stage: "light" as const, start: T0 - 8 * HOUR, end: T0 - 7 * HOUR },
      { stage: "awake_in_bed" as const, start: T0 - 7 * HOUR, end: T0 - 6 * HOUR },
    ];
    await store.ingestBatch(
      { sleepSessions: [night(1, [{ stage: "deep", start: T0 - 8 * HOUR, end: T0 - 4 * HOUR }])] },
      etl(userId),
    );
    const before = await store.listSleep(RANGE, etl(userId));

    const newer = await store.ingestBatch({ sleepSessions: [night(2, v2Stages)] }, etl(userId));
    const same = await store.ingestBatch({ sleepSessions: [night(2, [])] }, etl(userId));
    const older = await store.ingestBatch({ sleepSessions: [night(1, [])] }, etl(userId));
    const after = await store.listSleep(RANGE, etl(userId));

    expect([newer.sleepSessions, same.sleepSessions, older.sleepSessions]).toEqual([
      { accepted: 0, duplicate: 0, replaced: 1 },
      { accepted: 0, duplicate: 1, replaced: 0 },
      { accepted: 0, duplicate: 1, replaced: 0 },
    ]);
    expect(after.items).toHaveLength(1);
    expect(after.items[0]).toMatchObject({
      id: before.items[0]?.id,
      version: 2,
      stages: v2Stages,
      totals: { inBedMs: 8 * HOUR, asleepMs: HOUR, byStage: { light: HOUR, awake_in_bed: HOUR } },
    });
    expect(await stageRows(store)).toBe(2);
  });

  it("keeps the highest version of a session sent twice in one batch", async () => {
    const { userId, store } = freshStore();
    const result = await store.ingestBatch({ workouts: [run(3, 40), run(5, 50), run(4, 45)] }, etl(userId));
    const page = await store.listWorkouts(RANGE, etl(userId));

    expect(result.workouts).toEqual({ accepted: 1, duplicate: 2, replaced: 0 });
    expect(page.items.map((workout) => [workout.version, workout.end - workout.start, workout.exerciseType])).toEqual([
      [5, 50 * 60_000, "running"],
    ]);
    expect(await store.ingestBatch({ workouts: [run(6, 55)] }, etl(userId))).toMatchObject({
      workouts: { accepted: 0, duplicate: 0, replaced: 1 },
    });
  });

  it("pages sessions by start and lists those overlapping the range", async () => {
    const { userId, store } = freshStore();
    const workouts = Array.from({ length: 5 }, (_, i) => ({
      ...run(1, 30),
      sourceRecordId: `w${i}`,
      start: T0 + i * HOUR,
      end: T0 + i * HOUR + 1_800_000,
    }));
    await store.ingestBatch({ workouts }, etl(userId));

    const first = await store.listWorkouts({ since: T0 + 1_000_000, until: T0 + 4 * HOUR, limit: 2 }, etl(userId));
    const second = await store.listWorkouts(
      { since: T0 + 1_000_000, until: T0 + 4 * HOUR, limit: 2, cursor: first.nextCursor ?? "" },
      etl(userId),
    );

    // w0 [T0, T0+30min) overlaps since; w4 starts at until and is out.
    expect([...first.items, ...second.items].map((workout) => workout.sourceRecordId)).toEqual(["w0", "w1", "w2", "w3"]);
    expect(second.nextCursor).toBeNull();
  });

  it("writes and records nothing for an empty batch", async () => {
    const { userId, store } = freshStore();
    const nothing = { accepted: 0, duplicate: 0, replaced: 0 };
    expect(await store.ingestBatch({}, etl(userId))).toEqual({
      observations: nothing,
      sleepSessions: nothing,
      workouts: nothing,
    });
    expect((await store.accessLog()).items).toEqual([]);
  });

  it("refuses a batch with any invalid part, reporting every issue, and stores nothing", async () => {
    const { userId, store } = freshStore();
    const bad = {
      observations: [heartRate("hr", 0, 60), { ...heartRate("hr", 1, Number.NaN), unit: "" }],
      sleepSessions: [
        night(1, [
          { stage: "napping" as "light", start: T0 - HOUR, end: T0 },
          { stage: "light", start: T0, end: T0 - 1 },
        ]),
      ],
      workouts: [{ ...run(1, 10), exerciseType: "Running Fast" }],
    };
    const error = await failure(store.ingestBatch(bad, etl(userId)));

    expect(error).toBeInstanceOf(DomainError);
    expect(error instanceof DomainError ? error.errors?.map((issue) => issue.path).sort() : []).toEqual([
      "batch.observations.1.unit",
      "batch.observations.1.value",
      "batch.sleepSessions.0.stages.0.stage",
      "batch.sleepSessions.0.stages.1.end",
      "batch.workouts.0.exerciseType",
    ]);
    expect((await store.accessLog()).items).toEqual([]);
  });
});

describe("HealthStore packed observations", () => {
  it("stores a packed batch exactly as the same observations sent as objects", async () => {
    const a = freshStore();
    const b = freshStore();
    const batch = [
      heartRate("hr", 0, 61.25),
      { ...heartRate("hr", 1, 62), device: "Pixel Watch", zoneOffsetSeconds: -18_000, flagged: true, version: 7 },
      { ...heartRate("steps", 2, 1_200), metric: "steps", unit: "count", sourceKind: "provider" as const, end: T0 + 600_000 },
    ];

    const packed = await a.store.ingestBatch({ observations: packObservations(batch) }, etl(a.userId));
    const plain = await b.store.ingestBatch({ observations: batch }, etl(b.userId));
    const read = async ({ userId, store }: { userId: string; store: HealthStoreClient }) =>
      (await store.queryObservations({}, etl(userId))).items.map((item) => ({ ...item, id: 0 }));

    expect(packed).toEqual(plain);
    expect(await read(a)).toEqual(await read(b));
  });

  it("refuses malformed packing and validates packed values like objects", async () => {
    const { userId, store } = freshStore();
    const packed = packObservations([heartRate("hr", 0, 60), heartRate("hr", 1, 61)]);

    const shortColumn = await failure(
      store.ingestBatch({ observations: { ...packed, value: new Float64Array(1) } }, etl(userId)),
    );
    const badIndex = await failure(store.ingestBatch({ observations: { ...packed, unit: Uint32Array.of(0, 99) } }, etl(userId)));
    const nan = await failure(
      store.ingestBatch({ observations: { ...packed, value: Float64Array.of(60, Number.NaN) } }, etl(userId)),
    );

    for (const error of [shortColumn, badIndex]) {
      expect(error).toMatchObject({
        code: "VALIDATION_FAILED",
        errors: [{ path: "batch.observations", message: expect.any(String) }],
      });
    }
    expect(nan).toMatchObject({ code: "VALIDATION_FAILED", errors: [{ path: "batch.observations.1.value" }] });
    expect((await store.accessLog()).items).toEqual([]);
  });
});

function stageRows(store: HealthStoreClient): Promise<number> {
  return runInDurableObject(
    store.stub,
    (_instance: HealthStore, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sleep_stages").one().n,
  );
}
