import { validateResource } from "@medplum/core";
import type { Bundle, Resource } from "@medplum/fhirtypes";
import { describe, expect, it } from "vitest";
import type { SleepSession, Workout } from "../../durable-objects/health-store/read-schema";
import type { Observation } from "../../durable-objects/health-store/schema";
import { exportHead, exportTail, FhirPageWriter } from "../../src/fhir/export-format";
import {
  bloodPressureObservation,
  deviceResource,
  type FhirContext,
  patientResource,
  sampleObservation,
  sleepObservation,
  workoutObservation,
} from "../../src/fhir/resources";
// Loads the R4 definitions and the vital-signs profiles, corrected as the HL7 validator corrects them.
import { errors } from "./fhir-validator";

/**
 * The FHIR export's Bundle, built from fixed rows as the HealthStore reads them through the same
 * text writer the store uses (src/fhir/export-format.ts), validated entry by entry with Medplum's
 * validator and the R4 definitions: the base resource rules for every entry, and the profile each
 * resource claims in `meta.profile` (vital signs, blood pressure, …). The validator does not check
 * code bindings, so the codes the export relies on are asserted here.
 */
const USER = "usr_abcdefghijklmnopqrstuvwxyz";
const ctx: FhirContext = { baseUrl: "https://api.pulse.example/v1/fhir", userId: USER };
const T0 = Date.parse("2026-03-01T08:00:00Z");
const HOUR = 3_600_000;

function row(id: number, metric: string, unit: string, value: number, start = T0 + id * 60_000, end = start): Observation {
  return {
    id,
    metric,
    start,
    end,
    value,
    unit,
    sourceKind: "upload",
    sourceApp: "com.google.android.apps.fitness",
    sourceRecordId: `rec-${id}`,
    device: "Pixel Watch 3",
    zoneOffsetSeconds: 3600,
    localDate: "2026-03-01",
    flagged: false,
    version: 1,
  };
}

const session = { sourceKind: "upload" as const, sourceApp: "com.ouraring.oura", version: 1, zoneOffsetSeconds: 3600 };
const SLEEP: SleepSession = {
  ...session,
  id: 7,
  sourceRecordId: "night-1",
  start: T0 - 9 * HOUR,
  end: T0 - HOUR,
  localDate: "2026-03-01",
  title: null,
  notes: null,
  device: "Oura Ring 4",
  flagged: false,
  stages: [
    { stage: "light", start: T0 - 9 * HOUR, end: T0 - 6 * HOUR },
    { stage: "deep", start: T0 - 6 * HOUR, end: T0 - 4 * HOUR },
    { stage: "rem", start: T0 - 4 * HOUR, end: T0 - 2 * HOUR },
    { stage: "awake", start: T0 - 2 * HOUR, end: T0 - HOUR },
  ],
  totals: { inBedMs: 8 * HOUR, asleepMs: 7 * HOUR, byStage: { light: 3 * HOUR, deep: 2 * HOUR, rem: 2 * HOUR, awake: HOUR } },
};
const WORKOUT: Workout = {
  ...session,
  id: 3,
  sourceRecordId: "run-1",
  start: T0 + 9 * HOUR,
  end: T0 + 10 * HOUR,
  localDate: "2026-03-01",
  title: "Evening run",
  notes: null,
  device: null,
  flagged: false,
  exerciseType: "running",
};

/** The export's text for these rows, in the export's order, parsed back. */
function exportedBundle(): Bundle {
  const writer = new FhirPageWriter("bundle", ctx.baseUrl);
  const samples = [
    row(1, "heart_rate", "bpm", 62),
    row(2, "heart_rate", "bpm", 64),
    row(3, "oxygen_saturation", "%", 97),
    row(4, "respiratory_rate", "breaths/min", 14),
    row(5, "steps", "count", 420, T0, T0 + HOUR),
    row(6, "weight", "kg", 71.5),
    row(7, "body_temperature", "°C", 36.8),
    row(8, "blood_glucose", "mg/dL", 104),
    row(9, "hrv_rmssd", "ms", 41),
  ];
  for (const sample of samples) writer.add(sampleObservation(sample, ctx));
  const systolic = row(20, "blood_pressure_systolic", "mmHg", 121, T0 + 2 * HOUR);
  const diastolic = {
    ...row(21, "blood_pressure_diastolic", "mmHg", 79, T0 + 2 * HOUR),
    sourceRecordId: systolic.sourceRecordId,
  };
  writer.add(bloodPressureObservation(systolic, diastolic, ctx));
  writer.add(sampleObservation(row(22, "blood_pressure_systolic", "mmHg", 118), ctx));
  writer.add(sleepObservation(SLEEP, ctx));
  writer.add(workoutObservation(WORKOUT, ctx));
  for (const name of ["Oura Ring 4", "Pixel Watch 3"]) writer.add(deviceResource({ name }, ctx));
  const patient = patientResource({ userId: USER, displayName: "Ada" }, ctx);
  const text = exportHead("bundle", "exp_abcdefghijklmnopqrstuvwxyz", ctx.baseUrl, patient) + writer.text + exportTail("bundle");
  return JSON.parse(text) as Bundle;
}

describe("the FHIR export's Bundle, validated with @medplum/core", () => {
  it("is a valid collection Bundle whose every entry is a valid resource", () => {
    const bundle = exportedBundle();
    expect(bundle.type).toBe("collection");
    expect(bundle.id).toBe("exp-abcdefghijklmnopqrstuvwxyz");
    expect(bundle.entry).toHaveLength(1 + 9 + 2 + 2 + 2);
    expect(() => validateResource(bundle)).not.toThrow();
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource as Resource;
      expect(entry.fullUrl).toBe(`${ctx.baseUrl}/${resource.resourceType}/${resource.id}`);
      expect(() => validateResource(resource), `${resource.resourceType}/${resource.id}`).not.toThrow();
    }
  });

  it("meets every profile an entry claims, and uses the codes the export relies on", () => {
    const bundle = exportedBundle();
    const statuses = new Set(["registered", "preliminary", "final", "amended"]);
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource as Resource;
      for (const url of resource.meta?.profile ?? []) {
        expect(errors(resource, url), `${resource.id} against ${url}`).toEqual([]);
      }
      if (resource.resourceType !== "Observation") continue;
      // Bindings the validator leaves alone: the status value set, the subject, UCUM units.
      expect(statuses.has(resource.status)).toBe(true);
      expect(resource.subject?.reference).toBe("Patient/usr-abcdefghijklmnopqrstuvwxyz");
      for (const quantity of [resource.valueQuantity, ...(resource.component ?? []).map((c) => c.valueQuantity)]) {
        if (quantity !== undefined) expect(quantity.system).toBe("http://unitsofmeasure.org");
      }
    }
    const ids = (bundle.entry ?? []).map((entry) => `${entry.resource?.resourceType}/${entry.resource?.id}`);
    expect(ids.slice(0, 2)).toEqual(["Patient/usr-abcdefghijklmnopqrstuvwxyz", "Observation/obs-1"]);
    expect(ids).toContain("Observation/bp-20");
    expect(ids).toContain("Observation/obs-22");
    expect(ids).toContain("Observation/sleep-7");
    expect(ids).toContain("Observation/workout-3");
  });

  it("writes the same resources as NDJSON, one a line", () => {
    const writer = new FhirPageWriter("ndjson", ctx.baseUrl);
    writer.add(sampleObservation(row(1, "heart_rate", "bpm", 62), ctx));
    writer.add(sampleObservation(row(2, "heart_rate", "bpm", 64), ctx));
    const patient = patientResource({ userId: USER, displayName: null }, ctx);
    const lines = (exportHead("ndjson", "exp_x", ctx.baseUrl, patient) + writer.text + exportTail("ndjson")).split("\n");
    expect(lines.at(-1)).toBe("");
    const resources = lines.slice(0, -1).map((line) => JSON.parse(line) as Resource);
    expect(resources.map((r) => `${r.resourceType}/${r.id}`)).toEqual([
      "Patient/usr-abcdefghijklmnopqrstuvwxyz",
      "Observation/obs-1",
      "Observation/obs-2",
    ]);
    for (const resource of resources) expect(() => validateResource(resource)).not.toThrow();
  });
});
