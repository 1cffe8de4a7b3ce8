/**
 * Pulse's data as FHIR R4 resources (docs/fhir.md has the mapping and the profiles cited). Pure
 * functions of what the HealthStore answers: no I/O, so the FHIR routes, the bulk export and the
 * archive's bundle all emit the same shapes, and tests validate them with a FHIR validator.
 */
import type { CapabilityStatement, Device, Observation as FhirObservation, Patient } from "@medplum/fhirtypes";
import type { ObservationBucket, SleepSession, Workout } from "../../durable-objects/health-store/read-schema";
import type { Observation } from "../../durable-objects/health-store/schema";
import { isMetricCode, METRICS } from "../observations/metrics";
import { observationId, patientId } from "./ids";

export const LOINC = "http://loinc.org";
export const UCUM = "http://unitsofmeasure.org";
export const OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category";
/** Pulse's own code system, for metrics LOINC has no exact term for (src/observations/metrics.ts). */
export const PULSE_METRIC_SYSTEM = "https://pulse.health/fhir/CodeSystem/metric";

/** Who the resources are about and where they live: the base of absolute references and links. */
export interface FhirContext {
  /** e.g. `https://api.pulse.example/v1/fhir`, no trailing slash. */
  baseUrl: string;
  userId: string;
}

/** One stored sample as an Observation. */
export function sampleObservation(obs: Observation, ctx: FhirContext): FhirObservation {
  if (!isMetricCode(obs.metric)) throw new Error(`unknown metric ${obs.metric}`);
  const metric = METRICS[obs.metric];
  const coding: { system: string; code: string; display: string }[] = [
    { system: PULSE_METRIC_SYSTEM, code: obs.metric, display: metric.display },
  ];
  if (metric.loinc !== null) coding.unshift({ system: LOINC, code: metric.loinc, display: metric.display });
  return {
    resourceType: "Observation",
    id: observationId({ kind: "sample", rowId: obs.id }),
    status: "final",
    code: { coding, text: metric.display },
    subject: { reference: `Patient/${patientId(ctx.userId)}` },
    ...(obs.start === obs.end
      ? { effectiveDateTime: new Date(obs.start).toISOString() }
      : { effectivePeriod: { start: new Date(obs.start).toISOString(), end: new Date(obs.end).toISOString() } }),
    valueQuantity: { value: obs.value, unit: metric.unit, system: UCUM, code: metric.ucum },
  };
}

/** A blood-pressure reading as the 85354-9 panel with systolic and diastolic components. */
export function bloodPressureObservation(systolic: Observation, diastolic: Observation, ctx: FhirContext): FhirObservation {
  void systolic;
  void diastolic;
  void ctx;
  throw new Error("blood-pressure panel: being built");
}

/** A sleep session (93832-4 sleep duration) with its stages as components. */
export function sleepObservation(session: SleepSession, ctx: FhirContext): FhirObservation {
  void session;
  void ctx;
  throw new Error("sleep observation: being built");
}

/** A workout: its activity type and period. */
export function workoutObservation(workout: Workout, ctx: FhirContext): FhirObservation {
  void workout;
  void ctx;
  throw new Error("workout observation: being built");
}

/** One hour's summary (mean with min, max and count) of a minute-level series. */
export function hourlyObservation(bucket: ObservationBucket, ctx: FhirContext): FhirObservation {
  void bucket;
  void ctx;
  throw new Error("hourly observation: being built");
}

export interface PatientFacts {
  userId: string;
  displayName: string | null;
}

/** The person, minimal: id, and the name they chose to be shown by, if any. */
export function patientResource(facts: PatientFacts, ctx: FhirContext): Patient {
  void ctx;
  return { resourceType: "Patient", id: patientId(facts.userId), active: true };
}

export interface DeviceFacts {
  /** The device or source app name as stored. */
  name: string;
}

export function deviceResource(facts: DeviceFacts, ctx: FhirContext): Device {
  void facts;
  void ctx;
  throw new Error("device: being built");
}

/** The server's CapabilityStatement (`GET /v1/fhir/metadata`). */
export function capabilityStatement(baseUrl: string, software: { version: string }): CapabilityStatement {
  void baseUrl;
  void software;
  throw new Error("capability statement: being built");
}
