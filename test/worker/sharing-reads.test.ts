import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput, StoreAuditContext } from "../../durable-objects/health-store/schema";
import type { SleepSessionInput, WorkoutInput } from "../../durable-objects/health-store/session-schema";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import { consents, grants, users } from "../../src/db/schema";
import { acceptCurrentConsent } from "./helpers/consent";
import { type GrantSeed, insertGrant } from "./helpers/grants";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * A clinician's (or researcher's) reads of a patient who shared data with them: exactly what the
 * grant covers (categories, period), the reason recorded in the patient's chain, and every way of
 * not being shared with answered by the same 404, without addressing the patient's store.
 */
const app = createTestApp();
const at = (iso: string) => Date.parse(iso);
const REASON = "treatment; follow-up after the January visit";
const DAY = "since=2026-01-15T00:00:00Z&until=2026-01-16T00:00:00Z";

const sample = (metric: string, unit: string, iso: string, value: number, extra: Partial<ObservationInput> = {}) =>
  observationInput(metric, unit, at(iso), value, { sourceRecordId: `${metric}-${iso}`, ...extra });

const OBSERVATIONS: ObservationInput[] = [
  sample("heart_rate", "bpm", "2026-01-15T08:00:00Z", 60),
  sample("heart_rate", "bpm", "2026-01-15T09:10:00Z", 90),
  { ...sample("steps", "count", "2026-01-15T08:00:00Z", 1_000), end: at("2026-01-15T08:30:00Z") },
  { ...sample("steps", "count", "2026-01-15T09:00:00Z", 500), end: at("2026-01-15T09:15:00Z") },
  sample("blood_glucose", "mg/dL", "2026-01-15T07:00:00Z", 110),
  sample("weight", "kg", "2026-01-15T07:00:00Z", 70),
];
const session = { sourceKind: "upload", sourceApp: "com.example.health", version: 1, zoneOffsetSeconds: 0 } as const;
const NIGHT: SleepSessionInput = {
  ...session,
  sourceRecordId: "night",
  start: at("2026-01-14T22:00:00Z"),
  end: at("2026-01-15T06:00:00Z"),
  localDate: "2026-01-15",
  stages: [
    { stage: "deep", start: at("2026-01-14T22:00:00Z"), end: at("2026-01-15T02:00:00Z") },
    { stage: "light", start: at("2026-01-15T02:00:00Z"), end: at("2026-01-15T06:00:00Z") },
  ],
};
const NAP: SleepSessionInput = {
  ...session,
  sourceRecordId: "nap",
  start: at("2026-01-15T13:00:00Z"),
  end: at("2026-01-15T13:30:00Z"),
  localDate: "2026-01-15",
};
const RUN: WorkoutInput = {
  ...session,
  sourceRecordId: "run",
  exerciseType: "running",
  start: at("2026-01-15T17:00:00Z"),
  end: at("2026-01-15T17:45:00Z"),
  localDate: "2026-01-15",
};

const system = (userId: string): StoreAuditContext => ({
  actor: "etl",
  role: "system",
  subject: userId,
  reason: null,
  requestId: null,
  ip: null,
});

interface Shared {
  patient: SessionUser;
  clinician: SessionUser;
  grant: Awaited<ReturnType<typeof insertGrant>>;
}

/** A consenting patient with a day of data, and a clinician they shared `categories` with. */
async function shared(grant: Partial<GrantSeed> = {}, data: ObservationInput[] = OBSERVATIONS): Promise<Shared> {
  const patient = await createSessionUser();
  await acceptCurrentConsent(patient.user.id);
  await healthStoreFor(env.HEALTH_STORE, patient.user.id).ingestBatch(
    { observations: data, sleepSessions: [NIGHT, NAP], workouts: [RUN] },
    system(patient.user.id),
  );
  const clinician = await createSessionUser({ role: grant.role ?? "clinician" });
  const row = await insertGrant({
    patientId: patient.user.id,
    granteeId: clinician.user.id,
    categories: ["vitals", "activity", "sleep"],
    ...grant,
  });
  return { patient, clinician, grant: row };
}

function read(user: SessionUser, path: string, reason: string | null = REASON): Promise<Response> {
  return call(app, path, { headers: { ...user.headers, ...(reason === null ? {} : { "X-Access-Reason": reason }) } });
}

async function ok<T>(res: Response): Promise<T> {
  if (res.status !== 200) expect.fail(`expected 200, got ${res.status}: ${await res.text()}`);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  return res.json<T>();
}

async function lastEvent(patientId: string) {
  const log = await healthStoreFor(env.HEALTH_STORE, patientId).accessLog({ limit: 1 });
  return log.items[0];
}

async function hasStore(userId: string): Promise<boolean> {
  const wanted = env.HEALTH_STORE.idFromName(userId);
  return (await listDurableObjectIds(env.HEALTH_STORE)).some((id) => id.equals(wanted));
}

type Item = Record<string, unknown>;
type Page = { items: Item[]; nextCursor: string | null };

describe("grantee reads: the granted categories, with the reason recorded", () => {
  it("reads observations as the patient's own route answers them, recorded with actor, role and reason", async () => {
    const { patient, clinician } = await shared();
    const path = (who: string) => `/v1/patients/${who}/observations?metrics=heart_rate,steps&${DAY}`;
    const theirs = await ok<Page>(await read(clinician, path(patient.user.id)));
    const own = await ok<Page>(await call(app, `/v1/observations?metrics=heart_rate,steps&${DAY}`, { headers: patient.headers }));

    expect(theirs).toEqual(own);
    expect(theirs.items.map((item) => [item.metric, item.value])).toEqual([
      ["heart_rate", 60],
      ["steps", 1_000],
      ["steps", 500],
      ["heart_rate", 90],
    ]);
    // The patient's own read came last; the grantee's is the one before it.
    const log = await healthStoreFor(env.HEALTH_STORE, patient.user.id).accessLog({ limit: 2 });
    expect(log.items[1]).toMatchObject({
      actor: clinician.user.id,
      role: "clinician",
      subject: patient.user.id,
      action: "observations.read",
      resource: expect.stringMatching(/^observations;p=.*;m=heart_rate,steps$/),
      reason: REASON,
      result: "success",
    });
  });

  it("aggregates hours like the own route", async () => {
    const { patient, clinician } = await shared();
    const page = await ok<Page>(
      await read(clinician, `/v1/patients/${patient.user.id}/observations?metrics=steps&resolution=hour&${DAY}`),
    );
    expect(page.items.map((bucket) => [bucket.start, bucket.sum])).toEqual([
      ["2026-01-15T08:00:00.000Z", 1_000],
      ["2026-01-15T09:00:00.000Z", 500],
    ]);
  });

  it("gives the latest of named metrics, and without metrics of every granted metric only", async () => {
    const { patient, clinician } = await shared();
    const named = await ok<Page>(await read(clinician, `/v1/patients/${patient.user.id}/observations/latest?metrics=heart_rate`));
    expect(named.items.map((item) => [item.metric, item.value])).toEqual([["heart_rate", 90]]);

    const all = await ok<Page>(await read(clinician, `/v1/patients/${patient.user.id}/observations/latest`, "emergency"));
    // Glucose and weight are stored but not granted.
    expect(all.items.map((item) => item.metric).sort()).toEqual(["heart_rate", "steps"]);
    expect(await lastEvent(patient.user.id)).toMatchObject({ actor: clinician.user.id, reason: "emergency", result: "success" });
  });

  it("lists sleep and workouts", async () => {
    const { patient, clinician } = await shared();
    const sleep = await ok<Page>(await read(clinician, `/v1/patients/${patient.user.id}/sleep?${DAY}`, "care-coordination"));
    expect(sleep.items.map((item) => item.sourceRecordId)).toEqual(["night", "nap"]);
    expect(await lastEvent(patient.user.id)).toMatchObject({ action: "sleep.read", reason: "care-coordination" });

    const workouts = await ok<Page>(await read(clinician, `/v1/patients/${patient.user.id}/workouts?${DAY}`));
    expect(workouts.items.map((item) => [item.exerciseType, item.durationSeconds])).toEqual([["running", 2_700]]);
    expect(await lastEvent(patient.user.id)).toMatchObject({ action: "workouts.read", reason: REASON, actor: clinician.user.id });
  });

  it("summarizes a day with only the granted sections, recording which", async () => {
    const { patient, clinician } = await shared({ categories: ["activity", "sleep"] });
    const day = await ok<Item>(await read(clinician, `/v1/patients/${patient.user.id}/summary/daily?date=2026-01-15`));
    expect(day).toMatchObject({
      date: "2026-01-15",
      categories: ["activity", "sleep"],
      steps: 1_500,
      workouts: { count: 1, durationSeconds: 2_700 },
      sleep: { sessions: 2 },
      heartRate: null,
      restingHeartRate: null,
      hrvRmssd: null,
      glucose: null,
    });
    expect(await lastEvent(patient.user.id)).toMatchObject({
      action: "summary.read",
      resource:
        "summary;d=2026-01-15;p=2026-01-15T00:00:00.000Z/2026-01-16T00:00:00.000Z;m=steps,active_energy,total_energy,sleep,workout",
      actor: clinician.user.id,
    });

    const vitalsOnly = await shared({ categories: ["vitals", "glucose"] });
    const other = await ok<Item>(
      await read(vitalsOnly.clinician, `/v1/patients/${vitalsOnly.patient.user.id}/summary/daily?date=2026-01-15`),
    );
    expect(other).toMatchObject({
      categories: ["vitals", "glucose"],
      steps: null,
      activeEnergy: null,
      sleep: null,
      workouts: null,
    });
    expect(other.heartRate).toMatchObject({ count: 2, min: 60, max: 90 });
    expect(other.glucose).toMatchObject({ count: 1, timeInRangePercent: 100 });
  });

  it("reads as a researcher through a researcher's grant, not through a clinician's", async () => {
    const { patient, clinician: researcher } = await shared({ role: "researcher" });
    await ok<Page>(await read(researcher, `/v1/patients/${patient.user.id}/workouts?${DAY}`, "research"));
    expect(await lastEvent(patient.user.id)).toMatchObject({ role: "researcher", reason: "research" });

    const clinician = await createSessionUser({ role: "clinician" });
    await insertGrant({ patientId: patient.user.id, granteeId: clinician.user.id, role: "researcher", categories: ["activity"] });
    await expectProblem(await read(clinician, `/v1/patients/${patient.user.id}/workouts?${DAY}`), 404, "NOT_FOUND");
  });

  it("notes the last access on the grant, at most once a minute", async () => {
    const { patient, clinician, grant } = await shared();
    const db = getDb(env.DB);
    const lastAccess = async () => (await db.select().from(grants).where(eq(grants.id, grant.id)))[0]?.lastAccessedAt?.getTime();
    expect(await lastAccess()).toBeUndefined();
    const before = Date.now();
    await ok(await read(clinician, `/v1/patients/${patient.user.id}/workouts?${DAY}`));
    const first = await lastAccess();
    expect(first).toBeGreaterThanOrEqual(before);

    const recent = Date.now() - 30_000;
    await db
      .update(grants)
      .set({ lastAccessedAt: new Date(recent) })
      .where(eq(grants.id, grant.id));
    await ok(await read(clinician, `/v1/patients/${patient.user.id}/workouts?${DAY}`));
    expect(await lastAccess()).toBe(recent);

    const old = Date.now() - 61_000;
    await db
      .update(grants)
      .set({ lastAccessedAt: new Date(old) })
      .where(eq(grants.id, grant.id));
    await ok(await read(clinician, `/v1/patients/${patient.user.id}/workouts?${DAY}`));
    expect(await lastAccess()).toBeGreaterThan(old + 60_000);
  });
});

describe("grantee reads: not shared is 404, whatever the reason", () => {
  const routes = (patientId: string) => [
    `/v1/patients/${patientId}/observations?metrics=heart_rate&${DAY}`,
    `/v1/patients/${patientId}/observations/latest?metrics=heart_rate`,
    `/v1/patients/${patientId}/observations/latest`,
    `/v1/patients/${patientId}/summary/daily?date=2026-01-15`,
    `/v1/patients/${patientId}/sleep?${DAY}`,
    `/v1/patients/${patientId}/workouts?${DAY}`,
  ];

  async function expectNotShared(user: SessionUser, patientId: string): Promise<void> {
    for (const path of routes(patientId)) {
      const res = await read(user, path);
      await expectProblem(res, 404, "NOT_FOUND");
    }
  }

  it("answers 404 for another patient, one who shared with someone else", async () => {
    const { clinician } = await shared();
    const other = await shared();
    await expectNotShared(clinician, other.patient.user.id);
    expect((await lastEvent(other.patient.user.id))?.actor).toBe("etl");
  });

  it("answers 404 once the grant expired, a second or a millisecond ago", async () => {
    const second = await shared({ expiresAt: Date.now() - 1_000 });
    await expectNotShared(second.clinician, second.patient.user.id);
    // Expiring at this very millisecond is expired: the request runs at or after it.
    const now = await shared({ expiresAt: Date.now() });
    await expectNotShared(now.clinician, now.patient.user.id);
    expect((await lastEvent(now.patient.user.id))?.actor).toBe("etl");
  });

  it("answers 404 on the request after a revocation", async () => {
    const { patient, clinician, grant } = await shared();
    await ok(await read(clinician, `/v1/patients/${patient.user.id}/sleep?${DAY}`));
    await getDb(env.DB).update(grants).set({ revokedAt: new Date() }).where(eq(grants.id, grant.id));
    await expectNotShared(clinician, patient.user.id);
  });

  it("answers 404 while the patient's consent is withdrawn", async () => {
    const { patient, clinician } = await shared();
    await getDb(env.DB).update(consents).set({ withdrawnAt: new Date() }).where(eq(consents.userId, patient.user.id));
    await expectNotShared(clinician, patient.user.id);
    // Accepting the current documents again resumes sharing.
    await acceptCurrentConsent(patient.user.id);
    await ok(await read(clinician, `/v1/patients/${patient.user.id}/sleep?${DAY}`));
  });

  it("answers 404 once the patient asked for their account's deletion, before the job removes the grant", async () => {
    const { patient, clinician } = await shared();
    await ok(await read(clinician, `/v1/patients/${patient.user.id}/sleep?${DAY}`));
    // What the confirmed deletion sets at once; the job deleting the grants may run much later.
    await getDb(env.DB).update(users).set({ deletedAt: new Date() }).where(eq(users.id, patient.user.id));
    await expectNotShared(clinician, patient.user.id);
    expect((await lastEvent(patient.user.id))?.action).toBe("sleep.read");
  });

  it("answers 404 for an unknown or malformed id without creating its Durable Object", async () => {
    const clinician = await createSessionUser({ role: "clinician" });
    const unknown = newId("usr");
    for (const id of [unknown, "nobody", "usr_AAAA", encodeURIComponent("usr_../../x")]) {
      await expectNotShared(clinician, id);
      expect(await hasStore(decodeURIComponent(id))).toBe(false);
    }
  });
});

describe("grantee reads: categories and roles", () => {
  it("refuses a metric of a category not granted (403 naming it), recorded as denied", async () => {
    const { patient, clinician } = await shared();
    const res = await read(clinician, `/v1/patients/${patient.user.id}/observations?metrics=heart_rate,blood_glucose&${DAY}`);
    await expectProblem(res.clone(), 403, "FORBIDDEN");
    const problem = await res.json<{ detail: string; categories: string[] }>();
    expect(problem.detail).toContain("glucose");
    expect(problem.categories).toEqual(["glucose"]);
    expect(await lastEvent(patient.user.id)).toMatchObject({
      actor: clinician.user.id,
      action: "observations.read",
      resource: "observations;m=heart_rate,blood_glucose",
      result: "denied",
      reason: REASON,
    });

    await expectProblem(
      await read(clinician, `/v1/patients/${patient.user.id}/observations/latest?metrics=weight`),
      403,
      "FORBIDDEN",
    );
    expect(await lastEvent(patient.user.id)).toMatchObject({ resource: "observations;m=weight", result: "denied" });
  });

  it("refuses sleep or workouts when their category is not granted", async () => {
    const { patient, clinician } = await shared({ categories: ["vitals"] });
    await expectProblem(await read(clinician, `/v1/patients/${patient.user.id}/sleep?${DAY}`), 403, "FORBIDDEN");
    expect(await lastEvent(patient.user.id)).toMatchObject({ action: "sleep.read", result: "denied" });
    await expectProblem(await read(clinician, `/v1/patients/${patient.user.id}/workouts?${DAY}`), 403, "FORBIDDEN");
    expect(await lastEvent(patient.user.id)).toMatchObject({ action: "workouts.read", result: "denied" });
  });

  it("reads through the grant covering every category asked, the widest; none covering all is 403", async () => {
    const { patient, clinician } = await shared({ categories: ["vitals"] });
    // A second grant adds glucose, for the morning only.
    await insertGrant({
      patientId: patient.user.id,
      granteeId: clinician.user.id,
      categories: ["vitals", "glucose"],
      dataSince: at("2026-01-15T06:00:00Z"),
      dataUntil: at("2026-01-15T09:00:00Z"),
    });
    const both = await ok<Page>(
      await read(clinician, `/v1/patients/${patient.user.id}/observations?metrics=heart_rate,blood_glucose&${DAY}`),
    );
    expect(both.items.map((item) => [item.metric, item.value])).toEqual([
      ["blood_glucose", 110],
      ["heart_rate", 60],
    ]);
    const heart = await ok<Page>(await read(clinician, `/v1/patients/${patient.user.id}/observations?metrics=heart_rate&${DAY}`));
    expect(heart.items.map((item) => item.value)).toEqual([60, 90]);

    await insertGrant({ patientId: patient.user.id, granteeId: clinician.user.id, categories: ["body"] });
    const res = await read(clinician, `/v1/patients/${patient.user.id}/observations?metrics=weight,blood_glucose&${DAY}`);
    await expectProblem(res.clone(), 403, "FORBIDDEN");
    expect((await res.json<{ detail: string }>()).detail).toContain("No single grant");
  });

  it("refuses the patient and admin roles (403), even for their own id", async () => {
    const { patient } = await shared();
    for (const role of ["patient", "admin", "auditor"] as const) {
      const user = role === "patient" ? patient : await createSessionUser({ role });
      await expectProblem(await read(user, `/v1/patients/${patient.user.id}/sleep?${DAY}`), 403, "FORBIDDEN");
    }
  });
});

describe("grantee reads: hostile input", () => {
  it("refuses unknown or malformed query parameters with 400, as the own routes do", async () => {
    const { patient, clinician } = await shared();
    const base = `/v1/patients/${patient.user.id}`;
    for (const path of [
      `${base}/observations?metrics=heart_rate&${DAY}&userId=${clinician.user.id}`,
      `${base}/observations?metrics=no_such_metric&${DAY}`,
      `${base}/observations?metrics=heart_rate&resolution=minute`,
      `${base}/observations/latest?metric=heart_rate`,
      `${base}/summary/daily?date=2026-02-30`,
      `${base}/sleep?since=yesterday`,
      `${base}/workouts?limit=100000`,
    ]) {
      await expectProblem(await read(clinician, path), 400, "VALIDATION_FAILED");
    }
  });

  it("answers 404 for a very long id", async () => {
    const clinician = await createSessionUser({ role: "clinician" });
    await expectProblem(await read(clinician, `/v1/patients/usr_${"a".repeat(5_000)}/sleep?${DAY}`), 404, "NOT_FOUND");
  });

  it("never reaches outside the period through a cursor, even one replayed from the patient's own read", async () => {
    const { patient, clinician } = await shared({ dataSince: at("2026-01-15T09:00:00Z") }, [
      ...OBSERVATIONS,
      sample("heart_rate", "bpm", "2026-01-15T08:30:00Z", 70),
    ]);
    const own = await ok<Page>(
      await call(app, `/v1/observations?metrics=heart_rate&${DAY}&limit=1`, { headers: patient.headers }),
    );
    expect(own.items.map((item) => item.value)).toEqual([60]);
    const replayed = await ok<Page>(
      await read(
        clinician,
        `/v1/patients/${patient.user.id}/observations?metrics=heart_rate&${DAY}&cursor=${encodeURIComponent(own.nextCursor ?? "")}`,
      ),
    );
    // The cursor points before the period: the 08:30 sample after it is still outside.
    expect(replayed.items.map((item) => item.value)).toEqual([90]);
  });

  it("answers concurrent reads alike, each recorded once", async () => {
    const { patient, clinician } = await shared();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => read(clinician, `/v1/patients/${patient.user.id}/workouts?${DAY}`)),
    );
    for (const res of answers) expect((await ok<Page>(res)).items).toHaveLength(1);
    const log = await healthStoreFor(env.HEALTH_STORE, patient.user.id).accessLog({ limit: 20 });
    expect(log.items.filter((event) => event.actor === clinician.user.id && event.action === "workouts.read")).toHaveLength(8);
  });
});

describe("grantee reads: X-Access-Reason", () => {
  const refused = [
    null,
    "",
    "curiosity",
    "Treatment",
    "treatment;",
    "treatment; ",
    "treatment;no space",
    "treatment - note",
    `treatment; ${"x".repeat(201)}`,
    "treatment; tab\there",
    "research; next line\u0085here",
  ];

  it.each(refused.map((reason) => [reason]))("refuses %j with 400 naming the header", async (reason) => {
    const { patient, clinician } = await shared();
    const res = await read(clinician, `/v1/patients/${patient.user.id}/sleep?${DAY}`, reason);
    await expectProblem(res.clone(), 400, "VALIDATION_FAILED");
    const problem = await res.json<{ errors: { path: string }[] }>();
    expect(problem.errors.map((error) => error.path)).toEqual(["X-Access-Reason"]);
    expect((await lastEvent(patient.user.id))?.actor).toBe("etl");
  });

  it("refuses a missing reason even for an id not shared, before anything else", async () => {
    const clinician = await createSessionUser({ role: "clinician" });
    await expectProblem(await read(clinician, `/v1/patients/${newId("usr")}/sleep?${DAY}`, null), 400, "VALIDATION_FAILED");
  });

  it("accepts a note of 200 characters, accented ones included, and records it whole", async () => {
    const { patient, clinician } = await shared();
    const reason = `emergency; ${"é".repeat(199)}!`;
    await ok(await read(clinician, `/v1/patients/${patient.user.id}/sleep?${DAY}`, reason));
    expect((await lastEvent(patient.user.id))?.reason).toBe(reason);
  });
});

describe("grantee reads: the grant's period", () => {
  // The period cuts two quarter hours in the middle, so both the rollups and the samples are read.
  const since = "2026-01-15T08:37:00Z";
  const until = "2026-01-15T09:23:00Z";
  const EDGES: ObservationInput[] = [
    sample("heart_rate", "bpm", "2026-01-15T08:36:59.999Z", 200),
    sample("heart_rate", "bpm", "2026-01-15T08:37:00Z", 60),
    sample("heart_rate", "bpm", "2026-01-15T09:00:00Z", 70),
    sample("heart_rate", "bpm", "2026-01-15T09:22:59.999Z", 80),
    sample("heart_rate", "bpm", "2026-01-15T09:23:00Z", 210),
    sample("heart_rate", "bpm", "2026-01-15T12:00:00Z", 215),
    { ...sample("steps", "count", "2026-01-15T08:00:00Z", 1_000), end: at("2026-01-15T08:30:00Z") },
    { ...sample("steps", "count", "2026-01-15T09:00:00Z", 500), end: at("2026-01-15T09:15:00Z") },
  ];
  const withPeriod = () => shared({ dataSince: at(since), dataUntil: at(until) }, EDGES);

  it("returns raw observations and buckets of the period only, edges included and excluded exactly", async () => {
    const { patient, clinician } = await withPeriod();
    const base = `/v1/patients/${patient.user.id}/observations?metrics=heart_rate&${DAY}`;
    const raw = await ok<Page>(await read(clinician, base));
    expect(raw.items.map((item) => item.value)).toEqual([60, 70, 80]);

    const hours = await ok<Page>(await read(clinician, `${base}&resolution=hour`));
    expect(hours.items.map((item) => [item.start, item.count, item.min, item.max])).toEqual([
      ["2026-01-15T08:00:00.000Z", 1, 60, 60],
      ["2026-01-15T09:00:00.000Z", 2, 70, 80],
    ]);
    const days = await ok<Page>(await read(clinician, `${base}&resolution=day`));
    expect(days.items.map((item) => [item.count, item.min, item.max])).toEqual([[3, 60, 80]]);

    // A range entirely outside the period reads nothing.
    const after = await ok<Page>(
      await read(
        clinician,
        `/v1/patients/${patient.user.id}/observations?metrics=heart_rate&since=2026-01-15T10:00:00Z&until=2026-01-16T00:00:00Z`,
      ),
    );
    expect(after.items).toEqual([]);
  });

  it("gives the latest within the period", async () => {
    const { patient, clinician } = await withPeriod();
    const latest = await ok<Page>(
      await read(clinician, `/v1/patients/${patient.user.id}/observations/latest?metrics=heart_rate`),
    );
    expect(latest.items.map((item) => [item.start, item.value])).toEqual([["2026-01-15T09:22:59.999Z", 80]]);
  });

  it("leaves out sessions reaching outside the period", async () => {
    const { patient, clinician } = await shared({ dataSince: at("2026-01-15T00:00:00Z"), dataUntil: at("2026-01-15T17:30:00Z") });
    const sleep = await ok<Page>(await read(clinician, `/v1/patients/${patient.user.id}/sleep?${DAY}`));
    // The night began before the period; the nap lies inside it.
    expect(sleep.items.map((item) => item.sourceRecordId)).toEqual(["nap"]);
    // The run ends after the period.
    const workouts = await ok<Page>(await read(clinician, `/v1/patients/${patient.user.id}/workouts?${DAY}`));
    expect(workouts.items).toEqual([]);
  });

  it("summarizes only the part of the day inside the period", async () => {
    const { patient, clinician } = await withPeriod();
    const day = await ok<Item>(await read(clinician, `/v1/patients/${patient.user.id}/summary/daily?date=2026-01-15`));
    expect(day).toMatchObject({
      start: "2026-01-15T00:00:00.000Z",
      end: "2026-01-16T00:00:00.000Z",
      steps: 500,
      heartRate: { count: 3, min: 60, max: 80 },
      sleep: { sessions: 0, asleepSeconds: 0 },
      workouts: { count: 0 },
    });
  });
});
