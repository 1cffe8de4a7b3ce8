/**
 * Every FHIR resource shape Pulse emits, validated by @medplum/core against the R4 definitions
 * (and against the vital-signs profile it claims), plus what that validator does not check:
 * codes and units against the registry and the profiles' bindings, ids against src/fhir/ids.ts.
 */
import type { Observation as FhirObservation, Resource } from "@medplum/fhirtypes";
import { describe, expect, test } from "vitest";
import type { ObservationBucket, SleepSession, Workout } from "../../durable-objects/health-store/read-schema";
import type { Observation } from "../../durable-objects/health-store/schema";
import { parseObservationId, userIdOfPatient } from "../../src/fhir/ids";
import {
  bloodPressureObservation,
  capabilityStatement,
  deviceId,
  deviceResource,
  fhirDateTime,
  hourlyObservation,
  isDeviceId,
  LOINC,
  OBSERVATION_CATEGORY,
  PULSE_CATEGORY_SYSTEM,
  PULSE_METRIC_SYSTEM,
  patientResource,
  sampleObservation,
  sleepObservation,
  UCUM,
  workoutObservation,
} from "../../src/fhir/resources";
import { METRIC_CODES, METRICS, type MetricCode } from "../../src/observations/metrics";
import { codesOf, errors, profileUnitCodes } from "./fhir-validator";

const USER = `usr_${"abcdefghijklmnopqrstuvwxyz"}`;
const PATIENT_REF = `Patient/usr-${"abcdefghijklmnopqrstuvwxyz"}`;
const CTX = { baseUrl: "https://api.pulse.example/v1/fhir", userId: USER };
const SD = "http://hl7.org/fhir/StructureDefinition/";
const HC_APP = "com.google.android.apps.healthdata";
// 2026-03-01T06:00:00Z, 08:00 in a +02:00 zone.
const T0 = Date.UTC(2026, 2, 1, 6, 0, 0);
const HOUR = 3_600_000;
const MINUTE = 60_000;

function sample(metric: MetricCode, value: number, overrides: Partial<Observation> = {}): Observation {
  return {
    id: 41,
    metric,
    start: T0,
    end: T0,
    value,
    unit: METRICS[metric].unit,
    sourceKind: "upload",
    sourceApp: HC_APP,
    device: null,
    sourceRecordId: "hc-record-1",
    zoneOffsetSeconds: 7_200,
    localDate: "2026-03-01",
    flagged: false,
    version: 0,
    ...overrides,
  };
}

function session(overrides: Partial<SleepSession> = {}): SleepSession {
  return {
    id: 7,
    sourceKind: "provider",
    sourceApp: "oura",
    sourceRecordId: "oura-sleep-1",
    version: 0,
    start: T0 - 8 * HOUR,
    end: T0,
    zoneOffsetSeconds: 3_600,
    localDate: "2026-03-01",
    title: null,
    notes: null,
    device: "Oura Ring Gen3",
    flagged: false,
    stages: [],
    totals: { inBedMs: 8 * HOUR, asleepMs: 8 * HOUR, byStage: {} },
    ...overrides,
  };
}

function workout(overrides: Partial<Workout> = {}): Workout {
  return {
    id: 12,
    sourceKind: "provider",
    sourceApp: "strava",
    sourceRecordId: "strava-991",
    version: 0,
    start: T0,
    end: T0 + 45 * MINUTE,
    zoneOffsetSeconds: null,
    localDate: "2026-03-01",
    title: "Morning run",
    notes: null,
    device: null,
    flagged: false,
    exerciseType: "running",
    ...overrides,
  };
}

/** Valid R4, and valid against the profile it claims in `meta.profile`. */
function expectValid(resource: Resource): void {
  expect(errors(resource)).toEqual([]);
  for (const url of resource.meta?.profile ?? []) expect(errors(resource, url)).toEqual([]);
}

function codings(concept: FhirObservation["code"] | undefined, system: string): string[] {
  return (concept?.coding ?? []).filter((coding) => coding.system === system).map((coding) => coding.code ?? "");
}

// Written out by hand from the registry's categories and R4's profiles (docs/fhir.md), not derived
// from the code under test.
const HL7_CATEGORY: Record<string, string | null> = {
  vitals: "vital-signs",
  body: "vital-signs",
  activity: "activity",
  glucose: "laboratory",
  nutrition: null,
  reproductive: null,
};
const PROFILE: Partial<Record<MetricCode, string>> = {
  heart_rate: "heartrate",
  respiratory_rate: "resprate",
  body_temperature: "bodytemp",
  weight: "bodyweight",
  height: "bodyheight",
  oxygen_saturation: "oxygensat",
};
const STATUS_CODES = codesOf("http://hl7.org/fhir/observation-status");
const CATEGORY_CODES = codesOf(OBSERVATION_CATEGORY);

describe("stored samples", () => {
  test.each(METRIC_CODES)("%s: valid R4 with the registry's LOINC and UCUM, its category and profile", (metric) => {
    const { range, loinc, ucum, category } = METRICS[metric];
    const observation = sampleObservation(sample(metric, (range.min + range.max) / 2), CTX);
    expectValid(observation);

    expect(observation.status).toBe("final");
    expect(STATUS_CODES).toContain(observation.status);
    expect(observation.id).toBe("obs-41");
    expect(parseObservationId(observation.id ?? "")).toEqual({ kind: "sample", rowId: 41 });
    expect(observation.subject?.reference).toBe(PATIENT_REF);

    expect(codings(observation.code, PULSE_METRIC_SYSTEM)).toEqual([metric]);
    const loincCodes = codings(observation.code, LOINC);
    if (loinc === null) expect(loincCodes).toEqual([]);
    else expect(loincCodes).toContain(loinc);

    const hl7 = observation.category?.flatMap((concept) => codings(concept, OBSERVATION_CATEGORY)) ?? [];
    const expectedHl7 = HL7_CATEGORY[category];
    expect(hl7).toEqual(expectedHl7 === null ? [] : [expectedHl7]);
    for (const code of hl7) expect(CATEGORY_CODES).toContain(code);
    expect(observation.category?.flatMap((concept) => codings(concept, PULSE_CATEGORY_SYSTEM))).toEqual([category]);

    const expectedProfile = PROFILE[metric] ?? (expectedHl7 === "vital-signs" ? "vitalsigns" : undefined);
    expect(observation.meta?.profile).toEqual(expectedProfile === undefined ? undefined : [`${SD}${expectedProfile}`]);

    expect(observation.valueQuantity?.system).toBe(UCUM);
    expect(observation.valueQuantity?.code).toBe(metric === "height" ? "cm" : ucum);
    const specific = PROFILE[metric];
    if (specific !== undefined) expect(profileUnitCodes(`${SD}${specific}`)).toContain(observation.valueQuantity?.code);
  });

  test("a heart-rate sample: value, local time, source record and device", () => {
    const observation = sampleObservation(sample("heart_rate", 72, { device: "Pixel Watch 2" }), CTX);
    expect(observation.valueQuantity).toEqual({ value: 72, unit: "bpm", system: UCUM, code: "/min" });
    expect(observation.effectiveDateTime).toBe("2026-03-01T08:00:00.000+02:00");
    expect(observation.effectivePeriod).toBeUndefined();
    expect(observation.identifier).toEqual([
      { use: "secondary", system: `urn:pulse:source:upload:${HC_APP}`, value: "hc-record-1" },
    ]);
    expect(observation.meta?.source).toBe(`urn:pulse:source:upload:${HC_APP}`);
    expect(observation.device).toEqual({ reference: `Device/${deviceId("Pixel Watch 2")}`, display: "Pixel Watch 2" });
    expect(observation.interpretation).toBeUndefined();
    expect(observation.note).toBeUndefined();
  });

  test("a record with a duration is a period; no device, no device reference; the source app is percent-encoded", () => {
    const steps = sample("steps", 1_234, {
      start: T0,
      end: T0 + 15 * MINUTE,
      zoneOffsetSeconds: null,
      sourceKind: "provider",
      sourceApp: "Garmin Connect",
    });
    const observation = sampleObservation(steps, CTX);
    expectValid(observation);
    expect(observation.effectivePeriod).toEqual({ start: "2026-03-01T06:00:00.000Z", end: "2026-03-01T06:15:00.000Z" });
    expect(observation.effectiveDateTime).toBeUndefined();
    expect(observation.valueQuantity).toEqual({ value: 1_234, unit: "count", system: UCUM, code: "{steps}" });
    expect(observation.identifier?.[0]?.system).toBe("urn:pulse:source:provider:Garmin%20Connect");
    expect(observation).not.toHaveProperty("device");
  });

  test("height is written in centimetres, as the body-height profile wants", () => {
    const observation = sampleObservation(sample("height", 1.8), CTX);
    // 1.8 × 100 is 180.00000000000003 in floating point: the mapping rounds it.
    expect(observation.valueQuantity).toEqual({ value: 180, unit: "cm", system: UCUM, code: "cm" });
  });

  test("oxygen saturation carries the profile's 2708-6 and the registry's pulse-oximetry 59408-5", () => {
    const observation = sampleObservation(sample("oxygen_saturation", 97), CTX);
    expect(codings(observation.code, LOINC)).toEqual(["2708-6", "59408-5"]);
    expect(observation.meta?.profile).toEqual([`${SD}oxygensat`]);
    expect(observation.valueQuantity).toEqual({ value: 97, unit: "%", system: UCUM, code: "%" });
  });

  test("a flagged value is kept, marked implausible, with a note naming the range", () => {
    const observation = sampleObservation(sample("heart_rate", 250, { flagged: true }), CTX);
    expectValid(observation);
    expect(observation.valueQuantity?.value).toBe(250);
    expect(observation.interpretation?.[0]?.coding?.[0]).toMatchObject({
      system: "https://pulse.health/fhir/CodeSystem/flag",
      code: "implausible",
    });
    expect(observation.note?.[0]?.text).toBe(
      "Flagged by Pulse: outside the plausible range 30–220 bpm for heart rate. Kept as recorded.",
    );
  });

  test("an unknown metric is refused", () => {
    expect(() => sampleObservation(sample("heart_rate", 60, { metric: "mood" }), CTX)).toThrow("unknown metric mood");
  });
});

describe("FHIR dateTime offsets", () => {
  test("the recorded offset is kept when FHIR can write it, otherwise the instant is written in UTC", () => {
    expect(fhirDateTime(T0, null)).toBe("2026-03-01T06:00:00.000Z");
    expect(fhirDateTime(T0, 0)).toBe("2026-03-01T06:00:00.000Z");
    expect(fhirDateTime(T0, 19_800)).toBe("2026-03-01T11:30:00.000+05:30");
    expect(fhirDateTime(T0, -25_200)).toBe("2026-02-28T23:00:00.000-07:00");
    expect(fhirDateTime(T0, 14 * 3_600)).toBe("2026-03-01T20:00:00.000+14:00");
    // Beyond ±14:00, or not whole minutes: FHIR's dateTime cannot say it.
    expect(fhirDateTime(T0, 15 * 3_600)).toBe("2026-03-01T06:00:00.000Z");
    expect(fhirDateTime(T0, 45)).toBe("2026-03-01T06:00:00.000Z");
    // Past year 9999 in local time: four-digit years only.
    expect(fhirDateTime(253_402_300_799_999, 3_600)).toBe("9999-12-31T23:59:59.999Z");
  });
});

describe("blood pressure", () => {
  const systolic = sample("blood_pressure_systolic", 128, { id: 90, device: "Omron M7" });
  const diastolic = sample("blood_pressure_diastolic", 82, { id: 91, device: "Omron M7" });

  test("the 85354-9 panel with systolic and diastolic components in mm[Hg], valid against the bp profile", () => {
    const panel = bloodPressureObservation(systolic, diastolic, CTX);
    expectValid(panel);
    expect(panel.meta?.profile).toEqual([`${SD}bp`]);
    expect(panel.id).toBe("bp-90");
    expect(parseObservationId(panel.id ?? "")).toEqual({ kind: "blood_pressure", systolicRowId: 90 });
    expect(codings(panel.code, LOINC)).toEqual(["85354-9"]);
    expect(panel.category?.flatMap((concept) => codings(concept, OBSERVATION_CATEGORY))).toEqual(["vital-signs"]);
    expect(panel.valueQuantity).toBeUndefined();
    expect(panel.component?.map((component) => codings(component.code, LOINC))).toEqual([["8480-6"], ["8462-4"]]);
    expect(panel.component?.map((component) => component.valueQuantity)).toEqual([
      { value: 128, unit: "mmHg", system: UCUM, code: "mm[Hg]" },
      { value: 82, unit: "mmHg", system: UCUM, code: "mm[Hg]" },
    ]);
    expect(panel.effectiveDateTime).toBe("2026-03-01T08:00:00.000+02:00");
    expect(panel.device?.display).toBe("Omron M7");
    expect(panel.note).toBeUndefined();
  });

  test("a flagged diastolic is marked on its component and noted", () => {
    const panel = bloodPressureObservation(systolic, { ...diastolic, value: 170, flagged: true }, CTX);
    expectValid(panel);
    expect(panel.component?.[0]?.interpretation).toBeUndefined();
    expect(panel.component?.[1]?.interpretation?.[0]?.coding?.[0]?.code).toBe("implausible");
    expect(panel.note?.[0]?.text).toContain("20–160 mmHg for diastolic blood pressure");
  });

  test("anything but a systolic and a diastolic sample is refused", () => {
    expect(() => bloodPressureObservation(diastolic, systolic, CTX)).toThrow("systolic and a diastolic");
    expect(() => bloodPressureObservation(sample("heart_rate", 60), diastolic, CTX)).toThrow("systolic and a diastolic");
  });
});

describe("sleep", () => {
  test("with stages: time asleep as the value, in bed and each stage as components, LOINC where it has terms", () => {
    const night = session({
      stages: [{ stage: "light", start: T0 - 8 * HOUR, end: T0 - 5 * HOUR }],
      totals: {
        inBedMs: 8 * HOUR,
        asleepMs: 6 * HOUR,
        byStage: { light: 3 * HOUR, deep: 90 * MINUTE, rem: 90 * MINUTE, awake: 30 * MINUTE },
      },
    });
    const observation = sleepObservation(night, CTX);
    expectValid(observation);
    expect(observation.id).toBe("sleep-7");
    expect(parseObservationId(observation.id ?? "")).toEqual({ kind: "sleep", sessionId: 7 });
    expect(codings(observation.code, LOINC)).toEqual(["93832-4"]);
    expect(observation.category?.flatMap((concept) => codings(concept, OBSERVATION_CATEGORY))).toEqual(["activity"]);
    expect(observation.category?.flatMap((concept) => codings(concept, PULSE_CATEGORY_SYSTEM))).toEqual(["sleep"]);
    // 22:00 to 06:00 UTC, written in the session's +01:00.
    expect(observation.effectivePeriod).toEqual({
      start: "2026-02-28T23:00:00.000+01:00",
      end: "2026-03-01T07:00:00.000+01:00",
    });
    expect(observation.valueQuantity).toEqual({ value: 360, unit: "min", system: UCUM, code: "min" });
    expect(
      observation.component?.map((component) => [
        codings(component.code, PULSE_METRIC_SYSTEM)[0],
        codings(component.code, LOINC)[0] ?? null,
        component.valueQuantity?.value,
        component.valueQuantity?.code,
      ]),
    ).toEqual([
      ["sleep_in_bed", null, 480, "min"],
      ["sleep_stage_awake", null, 30, "min"],
      ["sleep_stage_light", "93830-8", 180, "min"],
      ["sleep_stage_deep", "93831-6", 90, "min"],
      ["sleep_stage_rem", "93829-0", 90, "min"],
    ]);
    expect(observation.device).toEqual({ reference: `Device/${deviceId("Oura Ring Gen3")}`, display: "Oura Ring Gen3" });
    expect(observation.identifier?.[0]).toEqual({
      use: "secondary",
      system: "urn:pulse:source:provider:oura",
      value: "oura-sleep-1",
    });
  });

  test("without stages: the whole session is asleep, the only component is time in bed; seconds survive as decimals", () => {
    const observation = sleepObservation(
      session({ end: T0 + 20_000, totals: { inBedMs: 8 * HOUR + 20_000, asleepMs: 8 * HOUR + 20_000, byStage: {} } }),
      CTX,
    );
    expectValid(observation);
    expect(observation.valueQuantity?.value).toBe(480.33);
    expect(observation.component).toHaveLength(1);
    expect(codings(observation.component?.[0]?.code, PULSE_METRIC_SYSTEM)).toEqual(["sleep_in_bed"]);
  });

  test("a flagged session is marked with the plausible duration", () => {
    const short = session({
      start: T0 - 10 * MINUTE,
      flagged: true,
      totals: { inBedMs: 10 * MINUTE, asleepMs: 10 * MINUTE, byStage: {} },
    });
    const observation = sleepObservation(short, CTX);
    expectValid(observation);
    expect(observation.interpretation?.[0]?.coding?.[0]?.code).toBe("implausible");
    expect(observation.note?.[0]?.text).toContain("0.5–16 h");
  });
});

describe("workouts", () => {
  test("duration as the value (55411-3), exercise type as the 73985-4 component, category activity", () => {
    const observation = workoutObservation(workout(), CTX);
    expectValid(observation);
    expect(observation.id).toBe("workout-12");
    expect(parseObservationId(observation.id ?? "")).toEqual({ kind: "workout", workoutId: 12 });
    expect(codings(observation.code, LOINC)).toEqual(["55411-3"]);
    expect(observation.category?.flatMap((concept) => codings(concept, OBSERVATION_CATEGORY))).toEqual(["activity"]);
    expect(observation.effectivePeriod).toEqual({ start: "2026-03-01T06:00:00.000Z", end: "2026-03-01T06:45:00.000Z" });
    expect(observation.valueQuantity).toEqual({ value: 45, unit: "min", system: UCUM, code: "min" });
    expect(codings(observation.component?.[0]?.code, LOINC)).toEqual(["73985-4"]);
    expect(observation.component?.[0]?.valueCodeableConcept).toEqual({
      coding: [{ system: "https://pulse.health/fhir/CodeSystem/exercise-type", code: "running", display: "Running" }],
      text: "Running",
    });
    expect(observation).not.toHaveProperty("device");
  });

  test("a snake_case type reads as words; a workout longer than a day is flagged", () => {
    const observation = workoutObservation(
      workout({ exerciseType: "strength_training", end: T0 + 25 * HOUR, flagged: true, device: "Apple Watch" }),
      CTX,
    );
    expectValid(observation);
    expect(observation.component?.[0]?.valueCodeableConcept?.text).toBe("Strength training");
    expect(observation.valueQuantity?.value).toBe(1_500);
    expect(observation.note?.[0]?.text).toContain("0–24 h");
    expect(observation.device?.reference).toBe(`Device/${deviceId("Apple Watch")}`);
  });
});

describe("hourly summaries", () => {
  const hour = Date.UTC(2026, 2, 1, 14);
  const heart: ObservationBucket = {
    metric: "heart_rate",
    start: hour,
    end: hour + HOUR,
    count: 60,
    sum: 4_340,
    min: 61,
    max: 88,
    avg: 4_340 / 60,
  };

  test("a series' hour: mean as the value, minimum, maximum and count as components, the hour as the period", () => {
    const observation = hourlyObservation(heart, CTX);
    expectValid(observation);
    expect(observation.meta?.profile).toEqual([`${SD}heartrate`]);
    expect(observation.id).toBe(`hourly-heart-rate-${hour}`);
    expect(parseObservationId(observation.id ?? "")).toEqual({ kind: "hourly", metric: "heart_rate", start: hour });
    expect(observation.effectivePeriod).toEqual({ start: "2026-03-01T14:00:00.000Z", end: "2026-03-01T15:00:00.000Z" });
    // 4340 / 60 = 72.333…
    expect(observation.valueQuantity).toEqual({ value: 72.33, unit: "bpm", system: UCUM, code: "/min" });
    expect(observation.method?.coding?.[0]?.code).toBe("hourly-mean");
    expect(observation.component?.map((component) => component.valueQuantity?.value ?? component.valueInteger)).toEqual([
      61, 88, 60,
    ]);
    expect(observation.component?.map((component) => component.code.coding?.[0]?.code)).toEqual([
      "minimum",
      "maximum",
      "sample-count",
    ]);
  });

  test("quantities that add up are summarised by their total", () => {
    const steps: ObservationBucket = {
      metric: "steps",
      start: hour,
      end: hour + HOUR,
      count: 4,
      sum: 1_234,
      min: 100,
      max: 600,
      avg: 308.5,
    };
    const observation = hourlyObservation(steps, CTX);
    expectValid(observation);
    expect(observation.valueQuantity).toEqual({ value: 1_234, unit: "count", system: UCUM, code: "{steps}" });
    expect(observation.method?.coding?.[0]?.code).toBe("hourly-sum");
    expect(observation.meta).toBeUndefined();
  });

  test("an empty bucket or an unknown metric is refused", () => {
    expect(() => hourlyObservation({ ...heart, count: 0, sum: 0, avg: Number.NaN }, CTX)).toThrow("at least one sample");
    expect(() => hourlyObservation({ ...heart, metric: "mood" }, CTX)).toThrow("unknown metric");
  });
});

describe("devices and the patient", () => {
  test("a device id is 64-bit FNV-1a of the name: stable, FHIR-id safe, distinct per name", () => {
    // FNV-1a 64 test vectors (Fowler/Noll/Vo reference): "a" and "foobar".
    expect(deviceId("a")).toBe("dev-af63dc4c8601ec8c");
    expect(deviceId("foobar")).toBe("dev-85944171f73967e8");
    expect(deviceId("Pixel Watch 2")).toBe(deviceId("Pixel Watch 2"));
    expect(deviceId("Pixel Watch 2")).not.toBe(deviceId("Pixel Watch 3"));
    expect(deviceId("Montre connectée ⌚")).toMatch(/^dev-[0-9a-f]{16}$/);
    expect(isDeviceId(deviceId("x".repeat(256)))).toBe(true);
    expect(isDeviceId("dev-xyz")).toBe(false);
    expect(isDeviceId("obs-1")).toBe(false);
  });

  test("a Device names the device or app and the person it belongs to", () => {
    const device = deviceResource({ name: "Pixel Watch 2" }, CTX);
    expectValid(device);
    expect(device.id).toBe(deviceId("Pixel Watch 2"));
    expect(device.deviceName).toEqual([{ name: "Pixel Watch 2", type: "user-friendly-name" }]);
    expect(device.type?.text).toBeTruthy();
    expect(device.patient?.reference).toBe(PATIENT_REF);
  });

  test("a Patient is the id and, only when chosen, a display name", () => {
    const named = patientResource({ userId: USER, displayName: "Sam" }, CTX);
    expectValid(named);
    expect(named).toEqual({
      resourceType: "Patient",
      id: "usr-abcdefghijklmnopqrstuvwxyz",
      active: true,
      name: [{ use: "usual", text: "Sam" }],
    });
    expect(userIdOfPatient(named.id ?? "")).toBe(USER);
    for (const displayName of [null, "   "]) {
      const anonymous = patientResource({ userId: USER, displayName }, CTX);
      expectValid(anonymous);
      expect(anonymous).toEqual({ resourceType: "Patient", id: "usr-abcdefghijklmnopqrstuvwxyz", active: true });
    }
  });
});

describe("CapabilityStatement", () => {
  const statement = capabilityStatement(CTX.baseUrl, { version: "1.2.3" });

  test("valid R4: FHIR 4.0.1, JSON only, a read-only server instance", () => {
    expectValid(statement);
    expect(statement).toMatchObject({
      status: "active",
      kind: "instance",
      fhirVersion: "4.0.1",
      format: ["application/fhir+json"],
      software: { name: "Pulse", version: "1.2.3" },
      implementation: { url: CTX.baseUrl },
    });
    expect(statement.rest).toHaveLength(1);
    expect(statement.rest?.[0]?.mode).toBe("server");
    expect(statement.rest?.[0]?.security?.description).toContain("Bearer");
  });

  test("Patient read and search by _id; Observation read and search with Pulse's parameters; Device read and search by patient", () => {
    const resources = statement.rest?.[0]?.resource ?? [];
    const summary = Object.fromEntries(
      resources.map((resource) => [
        resource.type,
        {
          interactions: resource.interaction?.map((interaction) => interaction.code),
          params: resource.searchParam?.map((param) => `${param.name}:${param.type}`) ?? [],
        },
      ]),
    );
    expect(summary).toEqual({
      Patient: { interactions: ["read", "search-type"], params: ["_id:token"] },
      Observation: {
        interactions: ["read", "search-type"],
        params: [
          "patient:reference",
          "subject:reference",
          "code:token",
          "category:token",
          "date:date",
          "_count:number",
          "_sort:string",
          "resolution:token",
          "_cursor:string",
          "_format:token",
        ],
      },
      Device: { interactions: ["read", "search-type"], params: ["patient:reference"] },
    });
    const observation = resources.find((resource) => resource.type === "Observation");
    expect(observation?.supportedProfile).toEqual(
      expect.arrayContaining(
        ["vitalsigns", "bp", "heartrate", "resprate", "bodytemp", "bodyweight", "bodyheight", "oxygensat"].map(
          (id) => `${SD}${id}`,
        ),
      ),
    );
  });
});

describe("the validator really validates", () => {
  test("an Observation without its required code is refused", () => {
    const { code: _code, ...broken } = sampleObservation(sample("heart_rate", 72), CTX);
    expect(() => errors(broken as Resource)).toThrow("Missing required property (Observation.code)");
  });

  test("a heart rate coded as something else fails the heartrate profile", () => {
    const observation = sampleObservation(sample("heart_rate", 72), CTX);
    const miscoded = { ...observation, code: { coding: [{ system: LOINC, code: "9279-1" }] } };
    expect(errors(miscoded)).toEqual([]);
    expect(() => errors(miscoded, `${SD}heartrate`)).toThrow("HeartRateCode");
  });

  test("the corrected vs-1 still refuses a vital sign dated less precisely than a day", () => {
    const observation = sampleObservation(sample("heart_rate", 72), CTX);
    expect(errors({ ...observation, effectiveDateTime: "2026-03" })).toEqual([]);
    expect(() => errors({ ...observation, effectiveDateTime: "2026-03" }, `${SD}heartrate`)).toThrow("vs-1");
  });

  test("the corrected bp slices still refuse a panel whose systolic is coded as a diastolic", () => {
    const panel = bloodPressureObservation(
      sample("blood_pressure_systolic", 120, { id: 1 }),
      sample("blood_pressure_diastolic", 80, { id: 2 }),
      CTX,
    );
    const diastolicTwice = { ...panel, component: [panel.component?.[1], panel.component?.[1]] };
    expect(() => errors(diastolicTwice as Resource, `${SD}bp`)).toThrow("SystolicBP");
  });

  test("a blood-pressure panel without its diastolic component fails the bp profile", () => {
    const panel = bloodPressureObservation(
      sample("blood_pressure_systolic", 120, { id: 1 }),
      sample("blood_pressure_diastolic", 80, { id: 2 }),
      CTX,
    );
    const halved = { ...panel, component: panel.component?.slice(0, 1) };
    expect(() => errors(halved, `${SD}bp`)).toThrow();
  });
});
