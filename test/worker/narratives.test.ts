import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput, StoreAuditContext } from "../../durable-objects/health-store/schema";
import type { WorkoutInput } from "../../durable-objects/health-store/session-schema";
import type { ChainedAuditEvent } from "../../src/audit/event";
import { getDb } from "../../src/db/client";
import { NARRATIVE_REFRESH_ACTOR } from "../../src/narratives/refresh";
import { handleQueueBatch, QUEUES } from "../../src/queues/consumer";
import { ingestUpload } from "../../src/uploads/ingest-upload";
import { acceptCurrentConsent } from "./helpers/consent";
import { insertGrant } from "./helpers/grants";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";
import { seedUpload } from "./helpers/upload-api";
import { heartRateFile } from "./helpers/upload-files";

/**
 * The narrative routes end to end in workerd: what a reader sees (shape, instants in the zone, ids),
 * that a narrative is served from the store until new data makes it stale, that the refresh job
 * (run through the real queue consumer) regenerates it, that a burst of ingestion queues one job,
 * and the grantee's view. What the sentences say is tested with the narrative computation.
 */
const app = createTestApp();
const at = (iso: string) => Date.parse(iso);
const ID = /^nar_[a-z2-7]{26}$/;
const REASON = "treatment; weekly review";

interface View {
  id: string | null;
  period: string;
  date: string;
  endDate: string;
  timeZone: string;
  start: string;
  end: string;
  generatedAt: string;
  sections: unknown[];
  noData: string[];
  categories?: string[];
  withheld?: string[];
}

const system = (userId: string): StoreAuditContext => ({
  actor: "system:test",
  role: "system",
  subject: userId,
  reason: null,
  requestId: null,
  ip: null,
});

const heartRate = (iso: string, value: number): ObservationInput =>
  observationInput("heart_rate", "bpm", at(iso), value, { sourceRecordId: `hr-${iso}` });

function ingest(userId: string, observations: ObservationInput[]) {
  return healthStoreFor(env.HEALTH_STORE, userId).ingestBatch({ observations }, system(userId));
}

async function read(user: SessionUser, path: string, headers: Record<string, string> = {}): Promise<View> {
  const res = await call(app, path, { headers: { ...user.headers, ...headers } });
  if (res.status !== 200) expect.fail(`GET ${path}: ${res.status} ${await res.text()}`);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  return res.json<View>();
}

type Row = { id: string; period: string; date: string; time_zone: string; stale: number; generated_at: number };

function storedRows(userId: string): Promise<Row[]> {
  const stub = healthStoreFor(env.HEALTH_STORE, userId).stub;
  return runInDurableObject(stub, (_instance: HealthStore, state) =>
    state.storage.sql
      .exec<Row>("SELECT id, period, date, time_zone, stale, generated_at FROM narratives ORDER BY period, date")
      .toArray(),
  );
}

async function runRefresh(userId: string): Promise<void> {
  const batch = createMessageBatch<unknown>(QUEUES.sync, [
    { id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: { type: "narratives.refresh", userId } },
  ]);
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  expect(result.explicitAcks).toHaveLength(1);
  expect(result.retryMessages).toEqual([]);
}

async function events(userId: string): Promise<ChainedAuditEvent[]> {
  return (await healthStoreFor(env.HEALTH_STORE, userId).accessLog({ limit: 20 })).items;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("GET /v1/narratives", () => {
  it("answers the ISO week holding the date, with instants in the zone, then serves it from the store", async () => {
    const user = await createSessionUser();
    await ingest(user.user.id, [heartRate("2026-11-03T10:00:00Z", 62)]);
    const week = await read(user, "/v1/narratives?period=week&date=2026-11-05&tz=Europe/Paris");
    expect(week).toMatchObject({
      id: expect.stringMatching(ID),
      period: "week",
      date: "2026-11-02",
      endDate: "2026-11-08",
      timeZone: "Europe/Paris",
      start: "2026-11-02T00:00:00.000+01:00",
      end: "2026-11-09T00:00:00.000+01:00",
      generatedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    expect(Array.isArray(week.sections) && Array.isArray(week.noData)).toBe(true);

    // Any date of the same week, and the id, give the same stored narrative: same id, same generatedAt.
    await tick();
    expect(await read(user, "/v1/narratives?period=week&date=2026-11-08&tz=Europe/Paris")).toEqual(week);
    expect(await read(user, `/v1/narratives/${week.id}`)).toEqual(week);
    expect((await storedRows(user.user.id)).map((row) => [row.period, row.date, row.time_zone])).toEqual([
      ["week", "2026-11-02", "Europe/Paris"],
    ]);
    // A day is its own narrative, in UTC by default; a DST day in Paris is 23 hours long.
    const day = await read(user, "/v1/narratives?date=2026-11-03");
    expect(day).toMatchObject({ period: "day", date: "2026-11-03", endDate: "2026-11-03", timeZone: "UTC" });
    expect(day.id).not.toBe(week.id);
    const dst = await read(user, "/v1/narratives?date=2026-03-29&tz=Europe/Paris");
    expect([dst.start, dst.end]).toEqual(["2026-03-29T00:00:00.000+01:00", "2026-03-30T00:00:00.000+02:00"]);
  });

  it("defaults to today in the zone", async () => {
    const user = await createSessionUser();
    const today = await read(user, "/v1/narratives?tz=Asia/Tokyo");
    const now = Date.now();
    const tokyo = (ms: number) => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 10);
    // Read just now; around midnight the date may have just moved on.
    expect([tokyo(now), tokyo(now - 60_000)]).toContain(today.date);
    expect(today.period).toBe("day");
  });

  it("records each read as narratives.read with the period, worded in the access log", async () => {
    const user = await createSessionUser();
    const view = await read(user, "/v1/narratives?period=week&date=2026-11-05&tz=Europe/Paris");
    await read(user, `/v1/narratives/${view.id}`);
    const [byId, byPeriod] = await events(user.user.id);
    const resource = "narrative;d=2026-11-02;p=2026-11-01T23:00:00.000Z/2026-11-08T23:00:00.000Z";
    expect(byPeriod).toMatchObject({ action: "narratives.read", actor: user.user.id, resource, result: "success" });
    expect(byId).toMatchObject({ action: "narratives.read", actor: user.user.id, resource });

    const res = await call(app, "/v1/me/access-log?limit=1", { headers: user.headers });
    expect(res.status).toBe(200);
    const log = await res.json<{ items: { action: string; description?: string; summary?: string }[] }>();
    expect(JSON.stringify(log.items[0])).toContain("Read the weekly narrative from 2 Nov 2026");
  });

  it("gives concurrent first reads of one period one stored narrative", async () => {
    const user = await createSessionUser();
    const views = await Promise.all(
      Array.from({ length: 5 }, () => read(user, "/v1/narratives?period=week&date=2026-11-05&tz=Europe/Paris")),
    );
    expect(new Set(views.map((view) => `${view.id} ${view.generatedAt}`)).size).toBe(1);
    expect(await storedRows(user.user.id)).toHaveLength(1);
  });

  it("answers 404 for another person's narrative id and for a malformed one, recording nothing", async () => {
    const [owner, stranger] = [await createSessionUser(), await createSessionUser()];
    const view = await read(owner, "/v1/narratives?date=2026-11-03");
    const foreign = await call(app, `/v1/narratives/${view.id}`, { headers: stranger.headers });
    await expectProblem(foreign, 404, "NOT_FOUND");
    await expectProblem(await call(app, "/v1/narratives/nar_x", { headers: stranger.headers }), 404, "NOT_FOUND");
    await expectProblem(await call(app, "/v1/narratives/..%2F..%2Fusers", { headers: owner.headers }), 404, "NOT_FOUND");
    expect(await events(stranger.user.id)).toEqual([]);
  });

  it("refuses a bad period, date or zone, out-of-range weeks and unknown parameters, naming the parameter", async () => {
    const user = await createSessionUser();
    const cases: [string, string][] = [
      ["period=month", "period"],
      ["date=2026-02-30", "date"],
      ["date=yesterday", "date"],
      ["tz=Mars/Olympus", "tz"],
      ["period=week&date=1970-01-01", "date"],
      ["date=1970-01-01&tz=%2B05:00", "date"],
      ["period=week&date=9999-12-30", "date"],
      ["userId=usr_aaaaaaaaaaaaaaaaaaaaaaaaaa", ""],
    ];
    for (const [query, parameter] of cases) {
      const res = await call(app, `/v1/narratives?${query}`, { headers: user.headers });
      expect(res.status, query).toBe(400);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
      const body = await res.json<{ code: string; errors?: { path: string }[] }>();
      expect(body.code, query).toBe("VALIDATION_FAILED");
      if (parameter !== "")
        expect(
          body.errors?.map((error) => error.path),
          query,
        ).toEqual([parameter]);
    }
  });
});

describe("staleness and the refresh job", () => {
  it("marks stored narratives whose inputs changed stale, and the job regenerates them and the newest day and week", async () => {
    const user = await createSessionUser();
    const userId = user.user.id;
    const day = await read(user, "/v1/narratives?date=2026-11-03&tz=Europe/Paris");
    const later = await read(user, "/v1/narratives?date=2026-11-25&tz=Europe/Paris");
    const earlier = await read(user, "/v1/narratives?date=2026-10-01&tz=Europe/Paris");
    expect((await storedRows(userId)).every((row) => row.stale === 0)).toBe(true);

    const result = await ingest(userId, [heartRate("2026-11-03T10:00:00Z", 70)]);
    expect(result.narrativesRefresh).toBe(true);
    // The day itself, and 22 days later (its weight trend reads 30 days back): stale. A month before: not.
    const stale = Object.fromEntries((await storedRows(userId)).map((row) => [row.date, row.stale]));
    expect(stale).toEqual({ "2026-10-01": 0, "2026-11-03": 1, "2026-11-25": 1 });

    await tick();
    await runRefresh(userId);
    const rows = await storedRows(userId);
    expect(rows.map((row) => [row.period, row.date, row.time_zone, row.stale])).toEqual([
      ["day", "2026-10-01", "Europe/Paris", 0],
      ["day", "2026-11-03", "Europe/Paris", 0],
      ["day", "2026-11-25", "Europe/Paris", 0],
      // The week holding the newest data, in the zone of the person's last read.
      ["week", "2026-11-02", "Europe/Paris", 0],
    ]);
    const regenerated = await read(user, `/v1/narratives/${day.id}`);
    expect(regenerated.id).toBe(day.id);
    expect(Date.parse(regenerated.generatedAt)).toBeGreaterThan(Date.parse(day.generatedAt));
    expect((await read(user, `/v1/narratives/${later.id}`)).generatedAt).not.toBe(later.generatedAt);
    expect((await read(user, `/v1/narratives/${earlier.id}`)).generatedAt).toBe(earlier.generatedAt);

    const written = (await events(userId)).filter((event) => event.action === "narratives.write");
    expect(written.map((event) => [event.actor, event.role, event.resource])).toEqual(
      expect.arrayContaining([
        [NARRATIVE_REFRESH_ACTOR, "system", "narrative;d=2026-11-03;p=2026-11-02T23:00:00.000Z/2026-11-03T23:00:00.000Z"],
        [NARRATIVE_REFRESH_ACTOR, "system", "narrative;d=2026-11-02;p=2026-11-01T23:00:00.000Z/2026-11-08T23:00:00.000Z"],
      ]),
    );
    expect(written).toHaveLength(3);

    // Run again with nothing new: nothing regenerated, nothing recorded.
    const before = (await events(userId)).length;
    await runRefresh(userId);
    expect((await events(userId)).length).toBe(before);
  });

  it("regenerates a stale narrative on its next read when the job has not run yet", async () => {
    const user = await createSessionUser();
    const first = await read(user, "/v1/narratives?date=2026-11-03");
    await ingest(user.user.id, [heartRate("2026-11-03T12:00:00Z", 80)]);
    await tick();
    const second = await read(user, "/v1/narratives?date=2026-11-03");
    expect(second.id).toBe(first.id);
    expect(second.generatedAt).not.toBe(first.generatedAt);
    expect((await storedRows(user.user.id))[0]?.stale).toBe(0);
  });

  it("marks stale the narratives of the data a newer version of a record replaced, wherever it lay", async () => {
    const user = await createSessionUser();
    const sample = (start: string, value: number, version: number) =>
      observationInput("heart_rate", "bpm", at(start), value, { sourceRecordId: "hr-corrected", version });
    const workout = (start: string, end: string, version: number): WorkoutInput => ({
      sourceKind: "upload",
      sourceApp: "com.example.watch",
      sourceRecordId: "walk-corrected",
      version,
      zoneOffsetSeconds: 0,
      localDate: start.slice(0, 10),
      start: at(start),
      end: at(end),
      exerciseType: "walking",
    });
    const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
    await store.ingestBatch(
      {
        observations: [sample("2026-11-03T12:00:00Z", 80, 1)],
        workouts: [workout("2026-11-03T08:00:00Z", "2026-11-03T08:40:00Z", 1)],
      },
      system(user.user.id),
    );
    await tick();
    const first = await read(user, "/v1/narratives?date=2026-11-03");
    const domains = (view: View) => view.sections.map((section) => (section as { domain: string }).domain);
    expect(domains(first)).toEqual(["heart", "activity"]);
    // The source corrects both records: they now lie a week later, and 3 November has no data left.
    await store.ingestBatch(
      {
        observations: [sample("2026-11-10T12:00:00Z", 81, 2)],
        workouts: [workout("2026-11-10T08:00:00Z", "2026-11-10T08:40:00Z", 2)],
      },
      system(user.user.id),
    );
    await tick();
    const second = await read(user, "/v1/narratives?date=2026-11-03");
    expect(second.id).toBe(first.id);
    expect(second.sections).toEqual([]);
    expect(second.noData).toEqual(expect.arrayContaining(["heart", "activity"]));
  });

  it("marks every stored narrative stale when a source's data is deleted", async () => {
    const user = await createSessionUser();
    await ingest(user.user.id, [heartRate("2026-11-03T12:00:00Z", 80)]);
    await read(user, "/v1/narratives?date=2026-01-03");
    await healthStoreFor(env.HEALTH_STORE, user.user.id).deleteSource(
      { sourceKind: "upload", sourceApp: "com.example.health" },
      system(user.user.id),
    );
    expect((await storedRows(user.user.id)).map((row) => row.stale)).toEqual([1]);
  });

  it("does nothing for an account whose deletion was confirmed", async () => {
    const user = await createSessionUser();
    await ingest(user.user.id, [heartRate("2026-11-03T12:00:00Z", 80)]);
    // Deletion sets deleted_at first; the job must not bring the store back to life after it.
    await getDb(env.DB).run(sql`UPDATE users SET deleted_at = ${Date.now()} WHERE id = ${user.user.id}`);
    await runRefresh(user.user.id);
    expect(await storedRows(user.user.id)).toEqual([]);
  });
});

describe("queueing the refresh: once per burst", () => {
  /** A SYNC queue that keeps what was sent, with its options. */
  function capturingQueue(sent: { body: unknown; options: unknown }[]): Queue {
    return {
      send: async (body: unknown, options: unknown) => void sent.push({ body, options }),
      sendBatch: async () => undefined,
    } as unknown as Queue;
  }

  it("queues exactly one delayed narratives.refresh for five uploads ingested at once", async () => {
    const user = await createSessionUser();
    const sent: { body: unknown; options: unknown }[] = [];
    const uploads = await Promise.all(
      Array.from({ length: 5 }, async (_, i) =>
        seedUpload(user, await heartRateFile(20, { prefix: `burst-${i}-${crypto.randomUUID()}`, samples: 2 }), 20),
      ),
    );
    const ctx = { db: getDb(env.DB), env: { ...env, SYNC: capturingQueue(sent) } };
    expect(await Promise.all(uploads.map((upload) => ingestUpload(ctx, upload.message)))).toEqual(Array(5).fill("completed"));
    expect(sent).toEqual([
      { body: { type: "narratives.refresh", userId: user.user.id }, options: { contentType: "json", delaySeconds: 60 } },
    ]);
  });

  it("asks again after the job claimed the request, or after 15 minutes, and never for a batch that stored nothing", async () => {
    const user = await createSessionUser();
    const userId = user.user.id;
    const sample = heartRate("2026-11-03T10:00:00Z", 60);
    expect((await ingest(userId, [sample])).narrativesRefresh).toBe(true);
    expect((await ingest(userId, [heartRate("2026-11-03T10:01:00Z", 61)])).narrativesRefresh).toBe(false);
    // A duplicate stores nothing: nothing to regenerate.
    expect((await ingest(userId, [sample])).narrativesRefresh).toBeUndefined();

    // The pending request was lost: 16 minutes later an ingestion asks again.
    await runInDurableObject(healthStoreFor(env.HEALTH_STORE, userId).stub, (_instance: HealthStore, state) => {
      state.storage.sql.exec(
        "UPDATE store_meta SET value = ? WHERE key = 'narratives.refresh_requested_at'",
        String(Date.now() - 16 * 60_000),
      );
    });
    expect((await ingest(userId, [heartRate("2026-11-03T10:02:00Z", 62)])).narrativesRefresh).toBe(true);
    expect((await ingest(userId, [heartRate("2026-11-03T10:03:00Z", 63)])).narrativesRefresh).toBe(false);
    await runRefresh(userId);
    expect((await ingest(userId, [heartRate("2026-11-03T10:04:00Z", 64)])).narrativesRefresh).toBe(true);
  });
});

describe("GET /v1/patients/{patientId}/narratives", () => {
  async function shared(categories: string[], period: { dataSince?: number; dataUntil?: number } = {}) {
    const patient = await createSessionUser();
    await acceptCurrentConsent(patient.user.id);
    await ingest(patient.user.id, [heartRate("2026-11-03T10:00:00Z", 62)]);
    const clinician = await createSessionUser({ role: "clinician" });
    await insertGrant({ patientId: patient.user.id, granteeId: clinician.user.id, categories, ...period });
    return { patient, clinician, path: `/v1/patients/${patient.user.id}/narratives?period=week&date=2026-11-03&tz=Europe/Paris` };
  }

  it("shows the granted domains only, naming the withheld ones, and records the reader, reason and categories", async () => {
    const { patient, clinician, path } = await shared(["vitals", "sleep", "activity", "nutrition"]);
    const view = await read(clinician, path, { "X-Access-Reason": REASON });
    expect(view).toMatchObject({
      id: null,
      period: "week",
      date: "2026-11-02",
      start: "2026-11-02T00:00:00.000+01:00",
      categories: ["vitals", "activity", "sleep"],
      withheld: ["glucose", "body"],
    });
    const withheld = new Set(view.withheld);
    expect(view.noData.some((domain) => withheld.has(domain))).toBe(false);
    expect((await events(patient.user.id))[0]).toMatchObject({
      action: "narratives.read",
      actor: clinician.user.id,
      role: "clinician",
      reason: REASON,
      resource: "narrative;d=2026-11-02;p=2026-11-01T23:00:00.000Z/2026-11-08T23:00:00.000Z;c=vitals,activity,sleep",
      result: "success",
    });
    // Computed for the grant, never stored, so the patient's own narratives stay theirs.
    expect(await storedRows(patient.user.id)).toEqual([]);

    // Once the patient's own narrative is stored and fresh, the grantee is shown it (its id), filtered.
    const own = await read(patient, "/v1/narratives?period=week&date=2026-11-03&tz=Europe/Paris");
    const again = await read(clinician, path, { "X-Access-Reason": REASON });
    expect(again).toMatchObject({ id: own.id, generatedAt: own.generatedAt, withheld: ["glucose", "body"] });
  });

  it("computes from the grant's period only, recording the period cut to it", async () => {
    const { patient, clinician, path } = await shared(["vitals"], {
      dataSince: at("2026-11-04T00:00:00Z"),
      dataUntil: at("2026-11-06T00:00:00Z"),
    });
    await read(patient, "/v1/narratives?period=week&date=2026-11-03&tz=Europe/Paris");
    const view = await read(clinician, path, { "X-Access-Reason": "emergency" });
    // A stored narrative read more than the grant's period: the grantee gets one of their own.
    expect(view.id).toBeNull();
    expect((await events(patient.user.id))[0]?.resource).toBe(
      "narrative;d=2026-11-02;p=2026-11-04T00:00:00.000Z/2026-11-06T00:00:00.000Z;c=vitals",
    );
  });

  it("never shows a vitals-only grantee the workouts a stored narrative's heart section rests on", async () => {
    const { patient, clinician, path } = await shared(["vitals"]);
    const run: WorkoutInput = {
      sourceKind: "upload",
      sourceApp: "com.example.watch",
      sourceRecordId: "run-1",
      version: 1,
      zoneOffsetSeconds: 3600,
      localDate: "2026-11-03",
      start: at("2026-11-03T09:00:00Z"),
      end: at("2026-11-03T09:30:00Z"),
      exerciseType: "running",
    };
    await healthStoreFor(env.HEALTH_STORE, patient.user.id).ingestBatch(
      { observations: [heartRate("2026-11-03T09:10:00Z", 171), heartRate("2026-11-03T09:32:00Z", 120)], workouts: [run] },
      system(patient.user.id),
    );
    // The patient's own narrative (stored) tells the workout's type and recovery in the heart section.
    const own = await read(patient, "/v1/narratives?period=week&date=2026-11-03&tz=Europe/Paris");
    const ownHeart = JSON.stringify(own.sections.find((section) => (section as { domain: string }).domain === "heart"));
    expect(ownHeart).toContain("running, peak 171 bpm");
    // Workouts are activity data, which this grant does not cover: the grantee's heart section must not tell them.
    const view = await read(clinician, path, { "X-Access-Reason": REASON });
    expect(view.withheld).toContain("activity");
    const heart = JSON.stringify(view.sections.find((section) => (section as { domain: string }).domain === "heart"));
    expect(heart).toContain("171");
    expect(heart).not.toContain("running");
    expect(heart).not.toMatch(/workout_1|recovery|outside workouts/i);
    // Nor may it call the run's minutes above 100 bpm "outside workouts": it says it could not tell.
    expect(heart).toContain("above 100 bpm (exercise included: workouts are not shared)");
  });

  it("refuses a grant covering none of the narrative's categories (403, recorded as denied)", async () => {
    const { patient, clinician, path } = await shared(["nutrition"]);
    const res = await call(app, path, { headers: { ...clinician.headers, "X-Access-Reason": REASON } });
    await expectProblem(res, 403, "FORBIDDEN");
    expect((await events(patient.user.id))[0]).toMatchObject({
      action: "narratives.read",
      actor: clinician.user.id,
      result: "denied",
    });
  });

  it("answers 404 for a patient who has not shared with the caller, without addressing their store", async () => {
    const { patient } = await shared(["vitals"]);
    const other = await createSessionUser({ role: "clinician" });
    const res = await call(app, `/v1/patients/${patient.user.id}/narratives?date=2026-11-03`, {
      headers: { ...other.headers, "X-Access-Reason": REASON },
    });
    await expectProblem(res, 404, "NOT_FOUND");
    expect((await events(patient.user.id)).some((event) => event.actor === other.user.id)).toBe(false);
  });
});

describe("a day still in progress", () => {
  it("counts CGM coverage up to now, and is computed again when read an hour after it was", async () => {
    const user = await createSessionUser();
    // A zone where today is at least six hours old, so there is a CGM trace to read whatever the hour.
    const offsetHours = new Date().getUTCHours() >= 6 ? 0 : 9;
    const tz = offsetHours === 0 ? "UTC" : "Etc/GMT-9";
    const today = new Date(Date.now() + offsetHours * 3_600_000).toISOString().slice(0, 10);
    const midnight = Date.parse(`${today}T00:00:00Z`) - offsetHours * 3_600_000;
    // A reading every 5 minutes from midnight until now: everything expected so far.
    const readings: ObservationInput[] = [];
    for (let t = midnight; t < Date.now() - 60_000; t += 5 * 60_000) {
      readings.push(observationInput("blood_glucose", "mg/dL", t, 105, { sourceRecordId: `cgm-${t}` }));
    }
    await ingest(user.user.id, readings);

    const first = await read(user, `/v1/narratives?period=day&date=${today}&tz=${tz}`);
    const glucose = first.sections[0] as { domain: string; sentences: string[]; coverage: { sufficient: boolean } };
    expect(glucose.domain).toBe("glucose");
    expect(glucose.coverage.sufficient).toBe(true);
    expect(glucose.sentences[0]).toContain("of expected so far");

    // Read again at once: served from the store. Computed over an hour ago: computed again.
    expect((await read(user, `/v1/narratives?period=day&date=${today}&tz=${tz}`)).generatedAt).toBe(first.generatedAt);
    const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
    await runInDurableObject(store.stub, (_instance: HealthStore, state) => {
      state.storage.sql.exec("UPDATE narratives SET generated_at = generated_at - 2 * 3600000");
    });
    const later = await read(user, `/v1/narratives?period=day&date=${today}&tz=${tz}`);
    expect(later.id).toBe(first.id);
    expect(Date.parse(later.generatedAt)).toBeGreaterThanOrEqual(Date.parse(first.generatedAt));
  });
});
