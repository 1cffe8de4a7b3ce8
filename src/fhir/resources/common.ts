/**
 * What every Pulse FHIR resource shares: code systems, the person as subject, times, where a
 * record came from, and how a value Pulse flagged as implausible is marked. docs/fhir.md,
 * "Resources and mapping", explains each choice to readers of the resources.
 */
import type { Annotation, CodeableConcept, Identifier, Meta, Patient, Period, Reference } from "@medplum/fhirtypes";
import { patientId } from "../ids";

export const LOINC = "http://loinc.org";
export const UCUM = "http://unitsofmeasure.org";
export const OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category";
/** Pulse's own code system, for metrics LOINC has no exact term for (src/observations/metrics.ts). */
export const PULSE_METRIC_SYSTEM = "https://pulse.health/fhir/CodeSystem/metric";
/** Pulse's sharing categories (DESIGN §8), on every Observation beside HL7's category. */
export const PULSE_CATEGORY_SYSTEM = "https://pulse.health/fhir/CodeSystem/category";
/** Marks Pulse puts on values: `implausible` (outside the metric's plausibility range). */
export const PULSE_FLAG_SYSTEM = "https://pulse.health/fhir/CodeSystem/flag";
/** How an hourly summary's value was computed: `hourly-mean` or `hourly-sum`. */
export const PULSE_SUMMARY_SYSTEM = "https://pulse.health/fhir/CodeSystem/summary";
/** Exercise types as Pulse stores them (`running`, `strength_training`, …). */
export const PULSE_EXERCISE_SYSTEM = "https://pulse.health/fhir/CodeSystem/exercise-type";
/**
 * Prefix of the URN naming where a record came from: `urn:pulse:source:<upload|provider>:<app>`,
 * the app package or provider name percent-encoded. It is `meta.source`, and the system of the
 * identifier whose value is the source's own record id.
 */
export const SOURCE_URN_PREFIX = "urn:pulse:source:";

/** Who the resources are about and where they live: the base of absolute references and links. */
export interface FhirContext {
  /** e.g. `https://api.pulse.example/v1/fhir`, no trailing slash. */
  baseUrl: string;
  userId: string;
}

export interface SourceFacts {
  sourceKind: "upload" | "provider";
  sourceApp: string;
  sourceRecordId: string;
}

export function subjectOf(ctx: FhirContext): Reference<Patient> {
  return { reference: `Patient/${patientId(ctx.userId)}` };
}

// FHIR R4 dateTime offsets run from -14:00 to +14:00 in whole minutes; the store accepts ±18 h.
const MAX_FHIR_OFFSET_SECONDS = 14 * 3_600;
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;

/**
 * An instant as a FHIR dateTime, written in the wall-clock offset the source recorded when there
 * is one (a clinician reads "07:10+02:00" as the person's morning), otherwise in UTC. Both name
 * the same instant.
 */
export function fhirDateTime(ms: number, offsetSeconds: number | null): string {
  if (offsetSeconds === null || offsetSeconds === 0) return new Date(ms).toISOString();
  const local = ms + offsetSeconds * 1_000;
  const representable =
    Number.isInteger(offsetSeconds / 60) &&
    Math.abs(offsetSeconds) <= MAX_FHIR_OFFSET_SECONDS &&
    local >= 0 &&
    local <= LAST_FOUR_DIGIT_YEAR_MS;
  if (!representable) return new Date(ms).toISOString();
  const minutes = Math.abs(offsetSeconds) / 60;
  const offset = `${offsetSeconds < 0 ? "-" : "+"}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
  return `${new Date(local).toISOString().slice(0, 23)}${offset}`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

export function periodOf(start: number, end: number, offsetSeconds: number | null): Period {
  return { start: fhirDateTime(start, offsetSeconds), end: fhirDateTime(end, offsetSeconds) };
}

/** An instantaneous sample as `effectiveDateTime`, anything with a duration as `effectivePeriod`. */
export function effectiveOf(
  start: number,
  end: number,
  offsetSeconds: number | null,
): { effectiveDateTime: string } | { effectivePeriod: Period } {
  return start === end
    ? { effectiveDateTime: fhirDateTime(start, offsetSeconds) }
    : { effectivePeriod: periodOf(start, end, offsetSeconds) };
}

export function sourceUri(source: Pick<SourceFacts, "sourceKind" | "sourceApp">): string {
  return `${SOURCE_URN_PREFIX}${source.sourceKind}:${encodeURIComponent(source.sourceApp)}`;
}

/** The source's own id of the record: the samples of one series record share it. */
export function sourceIdentifier(source: SourceFacts): Identifier {
  return { use: "secondary", system: sourceUri(source), value: source.sourceRecordId };
}

/** Where the record came from and, when it conforms to one, the profile it claims. */
export function metaOf(source: Pick<SourceFacts, "sourceKind" | "sourceApp">, profile: string | null): Meta {
  return { source: sourceUri(source), ...(profile === null ? {} : { profile: [profile] }) };
}

export function categoryConcept(system: string, code: string, display: string): CodeableConcept {
  return { coding: [{ system, code, display }], text: display };
}

/**
 * How a flagged value is marked: kept as recorded (DESIGN §6), with an `implausible`
 * interpretation and a note saying which range it fell outside of. Pulse's summaries leave such
 * values out, and so do the hourly Observations.
 */
export function flagMarks(flagged: boolean, why: string): { interpretation?: CodeableConcept[]; note?: Annotation[] } {
  if (!flagged) return {};
  return { interpretation: [implausible()], note: [{ text: `Flagged by Pulse: ${why}. Kept as recorded.` }] };
}

export function implausible(): CodeableConcept {
  return {
    coding: [{ system: PULSE_FLAG_SYSTEM, code: "implausible", display: "Outside the plausible range" }],
    text: "Outside the plausible range",
  };
}
