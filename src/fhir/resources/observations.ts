/**
 * Stored samples, blood-pressure pairs and hourly summaries as Observations. Flagged samples are
 * emitted with an `implausible` interpretation (common.ts); hourly summaries, built from the
 * unflagged samples only, never include them.
 */
import type { Observation as FhirObservation, ObservationComponent } from "@medplum/fhirtypes";
import type { ObservationBucket } from "../../../durable-objects/health-store/read-schema";
import type { Observation } from "../../../durable-objects/health-store/schema";
import { METRICS, type MetricCode } from "../../observations/metrics";
import { observationId } from "../ids";
import {
  effectiveOf,
  type FhirContext,
  flagMarks,
  implausible,
  LOINC,
  metaOf,
  PULSE_METRIC_SYSTEM,
  PULSE_SUMMARY_SYSTEM,
  periodOf,
  sourceIdentifier,
  subjectOf,
} from "./common";
import { deviceReference } from "./device";
import {
  BLOOD_PRESSURE_PROFILE,
  categoriesOf,
  metricConcept,
  metricProfile,
  metricQuantity,
  registryMetric,
} from "./metric-codes";

/** LOINC "Blood pressure panel with all children optional", the code the R4 bp profile fixes. */
export const BLOOD_PRESSURE_PANEL_LOINC = "85354-9";

function rangeWords(code: MetricCode): string {
  const { range, unit } = METRICS[code];
  return `outside the plausible range ${range.min}–${range.max} ${unit} for ${METRICS[code].display.toLowerCase()}`;
}

/** One stored sample as an Observation. */
export function sampleObservation(obs: Observation, ctx: FhirContext): FhirObservation {
  const code = registryMetric(obs.metric);
  return {
    resourceType: "Observation",
    id: observationId({ kind: "sample", rowId: obs.id }),
    meta: metaOf(obs, metricProfile(code)),
    identifier: [sourceIdentifier(obs)],
    status: "final",
    category: categoriesOf(METRICS[code].category),
    code: metricConcept(code),
    subject: subjectOf(ctx),
    ...effectiveOf(obs.start, obs.end, obs.zoneOffsetSeconds),
    valueQuantity: metricQuantity(code, obs.value),
    ...flagMarks(obs.flagged, rangeWords(code)),
    ...(obs.device === null ? {} : { device: deviceReference(obs.device) }),
  };
}

/**
 * A blood-pressure reading as the 85354-9 panel with systolic and diastolic components (R4 `bp`
 * profile). The pair is identified by the systolic sample; time, source and device are its.
 */
export function bloodPressureObservation(systolic: Observation, diastolic: Observation, ctx: FhirContext): FhirObservation {
  if (systolic.metric !== "blood_pressure_systolic" || diastolic.metric !== "blood_pressure_diastolic") {
    throw new Error("a blood-pressure panel is a systolic and a diastolic sample");
  }
  const component = (obs: Observation, code: "blood_pressure_systolic" | "blood_pressure_diastolic"): ObservationComponent => ({
    code: metricConcept(code),
    valueQuantity: metricQuantity(code, obs.value),
    ...(obs.flagged ? { interpretation: [implausible()] } : {}),
  });
  const flagged = [systolic, diastolic].filter((obs) => obs.flagged);
  const why = flagged.map((obs) => rangeWords(registryMetric(obs.metric))).join("; ");
  return {
    resourceType: "Observation",
    id: observationId({ kind: "blood_pressure", systolicRowId: systolic.id }),
    meta: metaOf(systolic, BLOOD_PRESSURE_PROFILE),
    identifier: [sourceIdentifier(systolic)],
    status: "final",
    category: categoriesOf("vitals"),
    code: {
      coding: [
        { system: LOINC, code: BLOOD_PRESSURE_PANEL_LOINC },
        { system: PULSE_METRIC_SYSTEM, code: "blood_pressure", display: "Blood pressure" },
      ],
      text: "Blood pressure",
    },
    subject: subjectOf(ctx),
    ...effectiveOf(systolic.start, systolic.end, systolic.zoneOffsetSeconds),
    ...(flagged.length === 0 ? {} : { note: flagMarks(true, why).note }),
    ...(systolic.device === null ? {} : { device: deviceReference(systolic.device) }),
    component: [component(systolic, "blood_pressure_systolic"), component(diastolic, "blood_pressure_diastolic")],
  };
}

/**
 * One hour's summary of a series: for rates and levels (heart rate, SpO2…) the mean of the
 * hour's samples, for quantities that add up (steps, energy) their total, as `valueQuantity`;
 * minimum, maximum and sample count as components; `method` says which. Times are UTC: the hour
 * is the bucket's, whatever the samples' local offsets were.
 */
export function hourlyObservation(bucket: ObservationBucket, ctx: FhirContext): FhirObservation {
  const code = registryMetric(bucket.metric);
  if (bucket.count < 1) throw new Error("an hourly summary summarises at least one sample");
  const sum = METRICS[code].aggregation === "sum";
  const profile = metricProfile(code);
  const summaryCode = (suffix: string, display: string) => ({
    coding: [{ system: PULSE_SUMMARY_SYSTEM, code: suffix, display }],
    text: display,
  });
  return {
    resourceType: "Observation",
    id: observationId({ kind: "hourly", metric: code, start: bucket.start }),
    ...(profile === null ? {} : { meta: { profile: [profile] } }),
    status: "final",
    category: categoriesOf(METRICS[code].category),
    code: metricConcept(code),
    subject: subjectOf(ctx),
    effectivePeriod: periodOf(bucket.start, bucket.end, null),
    valueQuantity: metricQuantity(code, sum ? bucket.sum : roundMean(bucket.avg)),
    method: sum
      ? summaryCode("hourly-sum", `Total of ${bucket.count} records in the hour`)
      : summaryCode("hourly-mean", `Mean of ${bucket.count} samples in the hour`),
    component: [
      { code: summaryCode("minimum", "Minimum in the hour"), valueQuantity: metricQuantity(code, bucket.min) },
      { code: summaryCode("maximum", "Maximum in the hour"), valueQuantity: metricQuantity(code, bucket.max) },
      { code: summaryCode("sample-count", "Number of samples in the hour"), valueInteger: bucket.count },
    ],
  };
}

// A mean of device readings carries no more than two decimals of meaning (72.33 bpm).
function roundMean(value: number): number {
  return Math.round(value * 100) / 100;
}
