/**
 * Narratives and FHIR as a patient and her clinician live them (README "Narratives and FHIR"):
 * the patient uploads the shared Health Connect samples and then a home cuff's, a scale's and a
 * watch's readings of the same week, through the real upload route and ingest queue; her stored
 * weekly narrative goes stale and the narratives.refresh job, run through the real SYNC consumer,
 * regenerates it; a clinician she shared vitals with (invitation and redemption through the routes)
 * reads her narrative and her FHIR Observations and sees vitals only; her access log says so.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Bundle, Observation, OperationOutcome } from "@medplum/fhirtypes";
import { describe, expect, it } from "vitest";
import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { encodeDatum, parseSchema, writeContainer } from "../../src/avro";
import { readerSchemaFor } from "../../src/health-connect/record-types";
import { handleQueueBatch, QUEUES } from "../../src/queues/consumer";
import { acceptCurrentConsent } from "./helpers/consent";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";
import { uploadOk, waitForUpload } from "./helpers/upload-api";
import { SAMPLES, sampleBytes } from "./helpers/upload-files";

const app = createTestApp();
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Monday 6 October 2025 (UTC): the week the shared samples were recorded in. */
const MONDAY = Date.UTC(2025, 9, 6);
const WEEK = "period=week&date=2025-10-08&tz=UTC";
const PULSE_CATEGORY = "https://pulse.health/fhir/CodeSystem/category";

interface Figure {
  code: string;
  value: number | null;
}
interface Section {
  domain: string;
  sentences: string[];
  figures: Figure[];
}
interface NarrativeView {
  id: string | null;
  date: string;
  generatedAt: string;
  sections: Section[];
  noData: string[];
  categories?: string[];
  withheld?: string[];
}
interface AccessLogItem {
  action: string;
  who: { kind: string; label: string };
  description: string;
  categories: string[];
  reason: string | null;
  result: string;
}

async function json<T>(res: Response, status = 200): Promise<T> {
  if (res.status !== status) expect.fail(`expected ${status}, got ${res.status}: ${await res.text()}`);
  return res.json<T>();
}

function get(user: SessionUser, path: string, headers: Record<string, string> = {}) {
  return call(app, path, { headers: { ...user.headers, ...headers } });
}

function post(user: SessionUser, path: string, body: unknown) {
  return call(app, path, {
    method: "POST",
    headers: { ...user.headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** A Health Connect export of instant records (one value at `timeEpochMillis`), as the exporter writes it. */
function instantExport(
  type: Parameters<typeof readerSchemaFor>[0],
  app: string,
  device: Record<string, string | null>,
  readings: [number, Record<string, unknown>][],
) {
  const schemaJson = readerSchemaFor(type);
  const schema = parseSchema(schemaJson);
  const records = readings.map(([time, fields], i) => ({
    metadata: {
      id: `${type}-${i}-${time}`,
      dataOriginPackageName: app,
      lastModifiedTimeEpochMillis: time + 60_000,
      clientRecordId: null,
      clientRecordVersion: 0,
      device,
    },
    timeEpochMillis: time,
    zoneOffsetId: "Z",
    ...fields,
    appRecordFetchTimeEpochMillis: MONDAY + 7 * DAY_MS,
  }));
  // Encoding one record first fails loudly here, not in the ingest job, if a field is misnamed.
  encodeDatum(schema, records[0]);
  return writeContainer(schema, records, { blockRecords: 100, codec: "null", schemaJson: JSON.stringify(schemaJson) });
}

const CUFF = { manufacturer: "Withings", model: "BPM Connect", type: null };
const WATCH = { manufacturer: "Google", model: "Pixel Watch 3", type: "WATCH" };
const SCALE = { manufacturer: "Withings", model: "Body+", type: "SCALE" };
const at = (day: number, hour: number) => MONDAY + day * DAY_MS + hour * HOUR_MS;
/** Monday to Wednesday, morning and evening: mean 740/6 = 123.3 and 472/6 = 78.7 mmHg. */
const PRESSURES: [number, number, number][] = [
  [at(0, 7), 118, 76],
  [at(0, 21), 126, 80],
  [at(1, 7), 122, 78],
  [at(1, 21), 130, 84],
  [at(2, 7), 124, 78],
  [at(2, 21), 120, 76],
];

async function upload(user: SessionUser, bytes: Uint8Array): Promise<number> {
  const receipt = await uploadOk(app, user, bytes);
  const done = await waitForUpload(app, user, receipt.uploadId);
  expect(done.status).toBe("completed");
  return done.counts.accepted;
}

async function runRefresh(userId: string): Promise<void> {
  const batch = createMessageBatch<unknown>(QUEUES.sync, [
    { id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: { type: "narratives.refresh", userId } },
  ]);
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages).toEqual([]);
  expect(result.explicitAcks).toHaveLength(1);
}

function storedNarratives(userId: string) {
  return runInDurableObject(healthStoreFor(env.HEALTH_STORE, userId).stub, (_instance: HealthStore, state) =>
    state.storage.sql
      .exec<{ id: string; stale: number; generated_at: number }>("SELECT id, stale, generated_at FROM narratives")
      .toArray(),
  );
}

const figure = (view: NarrativeView, domain: string, code: string) =>
  view.sections.find((s) => s.domain === domain)?.figures.find((f) => f.code === code)?.value;

describe("narratives and FHIR, end to end", () => {
  it("a patient's week regenerates after new data, and a vitals-only clinician reads vitals only, all in her access log", async () => {
    const patient = await createSessionUser();
    await acceptCurrentConsent(patient.user.id);
    const clinician = await createSessionUser({ role: "clinician" });

    // The shared samples: heart rate, HRV, glucose, a night's sleep, steps and active energy.
    const accepted: Record<string, number> = {};
    for (const [type, file] of Object.entries(SAMPLES)) accepted[type] = await upload(patient, sampleBytes(file));
    expect(accepted).toEqual({
      ActiveCaloriesBurned: 1,
      BloodGlucose: 12,
      HeartRate: 15,
      HeartRateVariabilityRmssd: 6,
      SleepSession: 1,
      Steps: 1,
    });

    const first = await json<NarrativeView>(await get(patient, `/v1/narratives?${WEEK}`));
    expect(first.date).toBe("2025-10-06");
    expect(first.sections.map((s) => s.domain)).toEqual(["glucose", "heart", "sleep", "activity"]);
    expect(first.noData).toEqual(["blood_pressure", "body"]);
    expect(figure(first, "heart", "heart_rate_samples")).toBe(15);

    // A home cuff, a scale and the watch's overnight SpO2 and resting rate, the same week.
    accepted.BloodPressure = await upload(
      patient,
      await instantExport(
        "BloodPressure",
        "com.withings.wiscale2",
        CUFF,
        PRESSURES.map(([time, systolic, diastolic]) => [
          time,
          { systolic, diastolic, bodyPosition: "SITTING_DOWN", measurementLocation: "LEFT_UPPER_ARM" },
        ]),
      ),
    );
    accepted.Weight = await upload(
      patient,
      await instantExport("Weight", "com.withings.wiscale2", SCALE, [
        [at(0, 6), { weightInKilograms: 80.4 }],
        [at(2, 6), { weightInKilograms: 79.9 }],
      ]),
    );
    accepted.OxygenSaturation = await upload(
      patient,
      await instantExport("OxygenSaturation", "com.google.android.apps.fitness", WATCH, [
        [at(1, 2), { percentage: 96 }],
        [at(1, 4), { percentage: 93 }],
      ]),
    );
    accepted.RestingHeartRate = await upload(
      patient,
      await instantExport("RestingHeartRate", "com.google.android.apps.fitness", WATCH, [
        [at(0, 5), { beatsPerMinute: 58 }],
        [at(1, 5), { beatsPerMinute: 61 }],
      ]),
    );
    // Systolic and diastolic are two observations per cuff reading.
    expect([accepted.BloodPressure, accepted.Weight, accepted.OxygenSaturation, accepted.RestingHeartRate]).toEqual([
      12, 2, 2, 2,
    ]);

    // The stored week is stale now; the queued job (run here through the real consumer) regenerates it.
    expect(await storedNarratives(patient.user.id)).toEqual([expect.objectContaining({ id: first.id, stale: 1 })]);
    await runRefresh(patient.user.id);
    const [stored] = await storedNarratives(patient.user.id);
    expect(stored).toMatchObject({ id: first.id, stale: 0 });
    expect(stored?.generated_at).toBeGreaterThan(Date.parse(first.generatedAt));

    const week = await json<NarrativeView>(await get(patient, `/v1/narratives/${first.id}`));
    expect(week.generatedAt).toBe(new Date(stored?.generated_at ?? 0).toISOString());
    expect(week.sections.map((s) => s.domain)).toEqual(["glucose", "heart", "blood_pressure", "sleep", "activity", "body"]);
    expect(week.noData).toEqual([]);
    expect(week.sections.find((s) => s.domain === "blood_pressure")?.sentences[0]).toBe(
      "Mean blood pressure 123/79 mmHg from 6 readings on 3 days: elevated by the ACC/AHA 2017 categories.",
    );
    expect(figure(week, "heart", "resting_heart_rate")).toBe(60); // (58 + 61) / 2 = 59.5
    expect(figure(week, "heart", "min_oxygen_saturation")).toBe(93);
    expect(figure(week, "body", "weight")).toBe(79.9);
    expect(figure(week, "body", "weight_change")).toBe(-0.5);

    // She invites a clinician to her vitals; he redeems the code.
    const invitation = await json<{ code: string }>(
      await post(patient, "/v1/me/grants/invitations", {
        role: "clinician",
        categories: ["vitals"],
        expiresAt: new Date(Date.now() + 30 * DAY_MS).toISOString(),
      }),
      201,
    );
    await json(await post(clinician, "/v1/grants/redeem", { code: invitation.code }), 201);

    // The clinician's narrative: heart and blood pressure only, the rest named as withheld.
    const reason = { "X-Access-Reason": "treatment; pre-visit review" };
    const shared = await json<NarrativeView>(await get(clinician, `/v1/patients/${patient.user.id}/narratives?${WEEK}`, reason));
    // Computed for him (id null), not the stored one: without activity, the heart section leaves workouts out.
    expect(shared).toMatchObject({ id: null, categories: ["vitals"], withheld: ["glucose", "sleep", "activity", "body"] });
    expect(shared.sections.map((s) => s.domain)).toEqual(["heart", "blood_pressure"]);
    expect(shared.sections[1]).toEqual(week.sections.find((s) => s.domain === "blood_pressure"));
    const sharedHeart = shared.sections[0];
    expect(JSON.stringify(sharedHeart?.sentences)).not.toMatch(/running|peak|recovery/i);
    expect(sharedHeart?.figures.filter((f) => f.code.startsWith("workout_"))).toEqual([]);
    expect(figure(shared, "heart", "min_oxygen_saturation")).toBe(93);

    // FHIR: every Observation of the week he may see is a vital sign; glucose is refused.
    const patientRef = `Patient/${patient.user.id.replace("usr_", "usr-")}`;
    const search = `/v1/fhir/Observation?patient=${patientRef}&date=ge2025-10-06&date=lt2025-10-13&_count=1000`;
    const bundle = await json<Bundle<Observation>>(await get(clinician, search, reason));
    const observations = (bundle.entry ?? []).map((entry) => entry.resource as Observation);
    const categoryOf = (o: Observation) =>
      o.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === PULSE_CATEGORY)?.code;
    expect(new Set(observations.map(categoryOf))).toEqual(new Set(["vitals"]));
    // 15 heart rate + 6 HRV + 6 pressure panels + 2 SpO2 + 2 resting heart rate.
    expect(observations).toHaveLength(31);
    expect(observations.filter((o) => o.code.coding?.some((c) => c.code === "85354-9"))).toHaveLength(6);
    expect(observations.every((o) => o.subject?.reference === patientRef)).toBe(true);
    const glucose = await get(clinician, `/v1/fhir/Observation?patient=${patientRef}&code=2339-0`, reason);
    expect(glucose.status).toBe(403);
    expect(await glucose.json<OperationOutcome>()).toMatchObject({
      resourceType: "OperationOutcome",
      issue: [{ code: "forbidden" }],
    });

    // Her access log: each of his reads in plain words, with his reason and the category.
    const log = await json<{ items: AccessLogItem[] }>(await get(patient, "/v1/me/access-log?actor=others"));
    const his = log.items.filter((item) => item.who.kind === "grantee");
    expect(his.map((item) => [item.action, item.description, item.categories, item.reason, item.result])).toEqual([
      ["observations.read", "Tried to read blood glucose; refused", ["glucose"], "treatment; pre-visit review", "denied"],
      [
        "observations.read",
        "Read your vitals data for 6 Oct 2025 – 13 Oct 2025",
        ["vitals"],
        "treatment; pre-visit review",
        "success",
      ],
      [
        "narratives.read",
        "Read the weekly narrative from 6 Oct 2025 (your vitals data)",
        ["vitals"],
        "treatment; pre-visit review",
        "success",
      ],
      ["grant.redeem", expect.stringMatching(/^Redeemed your invitation and was given access \(grant grt_/), [], null, "success"],
    ]);
    // The job's work is hers to see too: her stale week regenerated, and the day of the newest data prepared.
    const own = await json<{ items: AccessLogItem[] }>(await get(patient, "/v1/me/access-log"));
    const prepared = own.items.filter((item) => item.action === "narratives.write");
    expect(prepared.map((item) => [item.who.kind, item.description, item.result]).sort()).toEqual([
      ["system", "Prepared the narrative of 9 Oct 2025", "success"],
      ["system", "Prepared the weekly narrative from 6 Oct 2025", "success"],
    ]);
  });
});
