import { env } from "cloudflare:workers";
import type { Bundle, Observation } from "@medplum/fhirtypes";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput } from "../../durable-objects/health-store/schema";
import type { SleepSessionInput, WorkoutInput } from "../../durable-objects/health-store/session-schema";
import { acceptCurrentConsent } from "./helpers/consent";
import { expectOutcome, FHIR_BASE, fhirGet, fhirOk, ids, searchAll, store } from "./helpers/fhir";
import { insertGrant } from "./helpers/grants";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { createTestApp } from "./helpers/test-app";

/**
 * The Observation kinds beyond plain samples, through the FHIR API: blood-pressure panels (the
 * systolic and diastolic rows of one reading, never two samples), sleep sessions, workouts and
 * hourly summaries; merged by date with one cursor across kinds, read by id, limited for grantees.
 * These need every mapping function of src/fhir/resources.ts.
 */
const app = createTestApp();
const at = (iso: string) => Date.parse(iso);
const REASON = "treatment; FHIR import";

const sample = (metric: string, unit: string, iso: string, value: number, record: string): ObservationInput =>
  observationInput(metric, unit, at(iso), value, { sourceRecordId: record });
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
// Starts with the blood-pressure reading and a heart-rate sample: one instant, three kinds.
const RIDE: WorkoutInput = {
  ...session,
  sourceRecordId: "ride",
  exerciseType: "biking",
  start: at("2026-01-15T10:00:00Z"),
  end: at("2026-01-15T10:45:00Z"),
  localDate: "2026-01-15",
};
const OBSERVATIONS: ObservationInput[] = [
  sample("heart_rate", "bpm", "2026-01-15T10:00:00Z", 70, "hr-1"),
  sample("blood_pressure_systolic", "mmHg", "2026-01-15T10:00:00Z", 120, "bp-1"),
  sample("blood_pressure_diastolic", "mmHg", "2026-01-15T10:00:00Z", 80, "bp-1"),
  // A systolic reading without its diastolic: a plain sample, not lost.
  sample("blood_pressure_systolic", "mmHg", "2026-01-15T11:00:00Z", 130, "bp-2"),
];

async function patientWithKinds(): Promise<SessionUser> {
  const user = await createSessionUser();
  await store(user.user.id, { observations: OBSERVATIONS, sleepSessions: [NIGHT], workouts: [RIDE] });
  return user;
}

async function search(user: SessionUser, query: string, headers: Record<string, string> = {}): Promise<Observation[]> {
  const bundle = await fhirOk<Bundle>(await fhirGet(app, user, `/v1/fhir/Observation?${query}`, headers));
  return (bundle.entry ?? []).map((entry) => entry.resource as Observation);
}

const kindOf = (resource: Observation) => resource.id?.split("-")[0];
const component = (resource: Observation, loinc: string) =>
  resource.component?.find((part) => part.code.coding?.some((coding) => coding.code === loinc))?.valueQuantity?.value;

describe("Observation kinds merged by date", () => {
  it("lists sleep, samples, the panel and the workout by start, kinds in a fixed order at one instant", async () => {
    const user = await patientWithKinds();
    const all = await search(user, "");
    expect(all.map(kindOf)).toEqual(["sleep", "obs", "bp", "workout", "obs"]);
    const [, heartRate, panel, , unpaired] = all;
    expect(heartRate?.valueQuantity?.value).toBe(70);
    expect(panel?.code.coding?.some((coding) => coding.system === "http://loinc.org" && coding.code === "85354-9")).toBe(true);
    expect([component(panel as Observation, "8480-6"), component(panel as Observation, "8462-4")]).toEqual([120, 80]);
    expect(unpaired?.valueQuantity?.value).toBe(130);
    expect((await search(user, "_sort=-date")).map((resource) => resource.id)).toEqual(ids(all).reverse());
  });

  it("pages across kinds with any page size, both orders, exactly once each", async () => {
    const user = await patientWithKinds();
    const all = ids(await search(user, ""));
    for (const count of [1, 2, 3, 4]) {
      expect(ids((await searchAll(app, user, `/v1/fhir/Observation?_count=${count}`)).resources)).toEqual(all);
      expect(ids((await searchAll(app, user, `/v1/fhir/Observation?_sort=-date&_count=${count}`)).resources)).toEqual(
        [...all].reverse(),
      );
    }
  });

  it("finds the panel by 85354-9 only; its rows are never separate samples", async () => {
    const user = await patientWithKinds();
    expect((await search(user, "code=http://loinc.org|85354-9")).map(kindOf)).toEqual(["bp"]);
    expect((await search(user, "code=8480-6")).map((resource) => resource.valueQuantity?.value)).toEqual([130]);
    expect(await search(user, "code=8462-4")).toEqual([]);
  });

  it("finds sleep by 93832-4 and workouts by Pulse's workout code, with FHIR date semantics on their periods", async () => {
    const user = await patientWithKinds();
    expect((await search(user, "code=http://loinc.org|93832-4")).map(kindOf)).toEqual(["sleep"]);
    expect((await search(user, "code=https://pulse.health/fhir/CodeSystem/metric|workout")).map(kindOf)).toEqual(["workout"]);
    // The night began on the 14th: not wholly inside the 15th, but it ends on it.
    expect(await search(user, "code=93832-4&date=2026-01-15")).toEqual([]);
    expect((await search(user, "code=93832-4&date=ge2026-01-15")).map(kindOf)).toEqual(["sleep"]);
    expect((await search(user, "code=93832-4&date=sa2026-01-14T21:59Z")).map(kindOf)).toEqual(["sleep"]);
  });
});

describe("Observation kinds read by id", () => {
  it("reads each kind as the search answered it; a paired row's own id is not one", async () => {
    const user = await patientWithKinds();
    for (const resource of await search(user, "")) {
      const read = await fhirOk<Observation>(await fhirGet(app, user, `/v1/fhir/Observation/${resource.id}`));
      expect(read).toEqual(resource);
    }
    const panel = (await search(user, "code=85354-9"))[0];
    const systolicRow = Number(panel?.id?.slice("bp-".length));
    // The panel's systolic row, as a sample, and the unpaired row as a panel, are not ids Pulse issued.
    await expectOutcome(await fhirGet(app, user, `/v1/fhir/Observation/obs-${systolicRow}`), 404, "not-found");
    const unpaired = (await search(user, "code=8480-6"))[0];
    await expectOutcome(await fhirGet(app, user, `/v1/fhir/Observation/bp-${unpaired?.id?.slice(4)}`), 404, "not-found");
  });

  it("records a sleep read as sleep.read of that night", async () => {
    const user = await patientWithKinds();
    const night = (await search(user, "code=93832-4"))[0];
    await fhirOk(await fhirGet(app, user, `/v1/fhir/Observation/${night?.id}`));
    const [event] = (await healthStoreFor(env.HEALTH_STORE, user.user.id).accessLog({ limit: 1 })).items;
    expect(event).toMatchObject({
      action: "sleep.read",
      resource: `sleep;p=2026-01-14T22:00:00.000Z/2026-01-15T06:00:00.000Z;m=sleep;id=${night?.id}`,
    });
  });
});

describe("Observation search: resolution=hour", () => {
  async function minuteSeries(): Promise<SessionUser> {
    const user = await createSessionUser();
    const start = at("2026-01-15T08:00:00Z");
    // 08:00-08:59 at 60..119 (mean 89.5), 09:00-09:29 at 100.
    const observations = [
      ...Array.from({ length: 60 }, (_, i) => observationInput("heart_rate", "bpm", start + i * 60_000, 60 + i)),
      ...Array.from({ length: 30 }, (_, i) => observationInput("heart_rate", "bpm", start + 3_600_000 + i * 60_000, 100)),
    ];
    await store(user.user.id, { observations });
    return user;
  }

  it("summarises whole UTC hours inside the range, pages, and reads each summary by id", async () => {
    const user = await minuteSeries();
    const query = "code=8867-4&resolution=hour&date=ge2026-01-15T07:30Z&date=lt2026-01-15T12:00Z";
    const hours = await search(user, query);
    expect(hours.map((resource) => resource.id)).toEqual([
      `hourly-heart-rate-${at("2026-01-15T08:00:00Z")}`,
      `hourly-heart-rate-${at("2026-01-15T09:00:00Z")}`,
    ]);
    expect(hours.map((resource) => [resource.effectivePeriod?.start, resource.effectivePeriod?.end])).toEqual([
      ["2026-01-15T08:00:00.000Z", "2026-01-15T09:00:00.000Z"],
      ["2026-01-15T09:00:00.000Z", "2026-01-15T10:00:00.000Z"],
    ]);
    expect(hours.map((resource) => resource.valueQuantity?.value)).toEqual([89.5, 100]);
    expect(ids((await searchAll(app, user, `/v1/fhir/Observation?${query}&_count=1`)).resources)).toEqual(ids(hours));
    for (const hour of hours) {
      expect(await fhirOk<Observation>(await fhirGet(app, user, `/v1/fhir/Observation/${hour.id}`))).toEqual(hour);
    }
    await expectOutcome(
      await fhirGet(app, user, `/v1/fhir/Observation/hourly-heart-rate-${at("2026-01-15T08:30:00Z")}`),
      404,
      "not-found",
    );
    // The 08:00 hour is cut by a range starting at 08:30: only whole hours are summarised.
    expect(ids(await search(user, "code=8867-4&resolution=hour&date=ge2026-01-15T08:30Z&date=lt2026-01-15T12:00Z"))).toEqual([
      `hourly-heart-rate-${at("2026-01-15T09:00:00Z")}`,
    ]);
  });

  for (const [query, path] of [
    ["code=8867-4&resolution=hour", "date"],
    ["code=8867-4&resolution=hour&date=ge2026-01-15", "date"],
    ["code=8867-4&resolution=hour&date=ge2026-01-01&date=lt2026-06-01", "date"],
    ["resolution=hour&date=ge2026-01-15&date=lt2026-01-16", "resolution"],
    ["code=85354-9&resolution=hour&date=ge2026-01-15&date=lt2026-01-16", "resolution"],
    ["code=8867-4&resolution=hour&_sort=-date&date=ge2026-01-15&date=lt2026-01-16", "_sort"],
  ] as const) {
    it(`${query} → 400 naming ${path}`, async () => {
      const user = await minuteSeries();
      const outcome = await expectOutcome(await fhirGet(app, user, `/v1/fhir/Observation?${query}`), 400, "invalid");
      expect(outcome.issue?.some((issue) => issue.expression?.includes(path))).toBe(true);
    });
  }
});

describe("Observation kinds for a grantee", () => {
  it("shows only the granted kinds, and reads by id only those (patient named)", async () => {
    const patient = await patientWithKinds();
    await acceptCurrentConsent(patient.user.id);
    const clinician = await createSessionUser({ role: "clinician" });
    await insertGrant({ patientId: patient.user.id, granteeId: clinician.user.id, categories: ["sleep"] });
    const ref = `usr-${patient.user.id.slice(4)}`;
    const headers = { "X-Access-Reason": REASON };
    const shown = await search(clinician, `patient=${ref}`, headers);
    expect(shown.map(kindOf)).toEqual(["sleep"]);
    expect(shown[0]?.subject?.reference).toBe(`Patient/${ref}`);
    const own = await search(patient, "");
    const workout = own.find((resource) => kindOf(resource) === "workout");
    const night = own.find((resource) => kindOf(resource) === "sleep");
    await expectOutcome(
      await fhirGet(app, clinician, `/v1/fhir/Observation/${workout?.id}?patient=${ref}`, headers),
      404,
      "not-found",
    );
    expect(
      await fhirOk<Observation>(await fhirGet(app, clinician, `/v1/fhir/Observation/${night?.id}?patient=${ref}`, headers)),
    ).toEqual(night);
    // Without naming the patient the id is read in the clinician's own (empty) data.
    await expectOutcome(await fhirGet(app, clinician, `/v1/fhir/Observation/${night?.id}`, headers), 404, "not-found");
    await expectOutcome(
      await fhirGet(app, clinician, `/v1/fhir/Observation?patient=${ref}&code=85354-9`, headers),
      403,
      "forbidden",
    );
    expect(`${FHIR_BASE}/Observation/${night?.id}`).toMatch(/^http:\/\/localhost\/v1\/fhir\/Observation\/sleep-\d+$/);
  });
});
