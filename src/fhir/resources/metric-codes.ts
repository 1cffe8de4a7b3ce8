/**
 * How each registry metric reads in FHIR: its code (LOINC where the registry has one, Pulse's
 * own code always), its categories, the R4 vital-signs profile it conforms to, and its quantity.
 *
 * Categories (http://terminology.hl7.org/CodeSystem/observation-category): vitals and body
 * measurements are `vital-signs`, activity (and sleep) `activity` — R4 defines it as "any bodily
 * activity that enhances or maintains physical fitness … (e.g., laps swum, steps, sleep data)" —
 * and glucose `laboratory`. Nutrition intake and basal body temperature get no HL7 category: none
 * of R4's nine fits logged intake, and BBT is kept for fertility tracking, which Pulse shares only
 * under its own `reproductive` category; labelling it a vital sign would put it under the
 * body-temperature profile as if it were a clinical reading. Every Observation also carries
 * Pulse's sharing category, so a reader can always select by it.
 *
 * Profiles (http://hl7.org/fhir/R4/observation-vitalsigns.html): R4 says an Observation in the
 * vital-signs category conforms to the vital-signs profile, and to the specific one where the
 * measurement is one of the profiled vital signs. Each specific profile fixes a LOINC code and
 * UCUM units: body height wants cm or [in_i], so Pulse's metres are converted to centimetres;
 * oxygen saturation is profiled as 2708-6, with the registry's pulse-oximetry term 59408-5 kept
 * as a second, more specific coding, as the profile's own example does.
 */
import type { CodeableConcept, Coding, Quantity } from "@medplum/fhirtypes";
import { isMetricCode, METRICS, type MetricCategory, type MetricCode } from "../../observations/metrics";
import { categoryConcept, LOINC, OBSERVATION_CATEGORY, PULSE_CATEGORY_SYSTEM, PULSE_METRIC_SYSTEM, UCUM } from "./common";

export type Hl7Category = "vital-signs" | "activity" | "laboratory";

const HL7_CATEGORY_DISPLAY: Record<Hl7Category, string> = {
  "vital-signs": "Vital Signs",
  activity: "Activity",
  laboratory: "Laboratory",
};

/** The HL7 observation category of each Pulse sharing category (null: none of R4's fits). */
export const HL7_CATEGORY: Record<MetricCategory, Hl7Category | null> = {
  vitals: "vital-signs",
  body: "vital-signs",
  activity: "activity",
  sleep: "activity",
  glucose: "laboratory",
  nutrition: null,
  reproductive: null,
};

const PULSE_CATEGORY_DISPLAY: Record<MetricCategory, string> = {
  vitals: "Vitals",
  activity: "Activity",
  body: "Body measurements",
  sleep: "Sleep",
  nutrition: "Nutrition",
  glucose: "Glucose",
  reproductive: "Reproductive health",
};

const PROFILE_BASE = "http://hl7.org/fhir/StructureDefinition/";
export const VITAL_SIGNS_PROFILE = `${PROFILE_BASE}vitalsigns`;
export const BLOOD_PRESSURE_PROFILE = `${PROFILE_BASE}bp`;

/** Metrics one of R4's specific vital-sign profiles describes, with the LOINC code it fixes. */
const SPECIFIC_PROFILES: Partial<Record<MetricCode, { profile: string; loinc: string }>> = {
  heart_rate: { profile: `${PROFILE_BASE}heartrate`, loinc: "8867-4" },
  respiratory_rate: { profile: `${PROFILE_BASE}resprate`, loinc: "9279-1" },
  body_temperature: { profile: `${PROFILE_BASE}bodytemp`, loinc: "8310-5" },
  weight: { profile: `${PROFILE_BASE}bodyweight`, loinc: "29463-7" },
  height: { profile: `${PROFILE_BASE}bodyheight`, loinc: "8302-2" },
  oxygen_saturation: { profile: `${PROFILE_BASE}oxygensat`, loinc: "2708-6" },
};

/** Units a profile wants that differ from the registry's canonical unit. */
const CONVERSIONS: Partial<Record<MetricCode, { factor: number; unit: string; ucum: string }>> = {
  height: { factor: 100, unit: "cm", ucum: "cm" },
};

export function registryMetric(code: string): MetricCode {
  if (!isMetricCode(code)) throw new Error(`unknown metric ${code}`);
  return code;
}

/** The profile an Observation of this metric conforms to, or null outside the vital-signs category. */
export function metricProfile(code: MetricCode): string | null {
  const specific = SPECIFIC_PROFILES[code];
  if (specific !== undefined) return specific.profile;
  return HL7_CATEGORY[METRICS[code].category] === "vital-signs" ? VITAL_SIGNS_PROFILE : null;
}

/** Every LOINC code the Observation's `code` carries: the profile's first, then the registry's. */
export function metricLoincCodes(code: MetricCode): string[] {
  const codes: string[] = [];
  const profiled = SPECIFIC_PROFILES[code]?.loinc;
  if (profiled !== undefined) codes.push(profiled);
  const registry = METRICS[code].loinc;
  if (registry !== null && !codes.includes(registry)) codes.push(registry);
  return codes;
}

export function metricConcept(code: MetricCode): CodeableConcept {
  const display = METRICS[code].display;
  const coding: Coding[] = metricLoincCodes(code).map((loinc) => ({ system: LOINC, code: loinc }));
  coding.push({ system: PULSE_METRIC_SYSTEM, code, display });
  return { coding, text: display };
}

export function hl7CategoryConcept(category: Hl7Category): CodeableConcept {
  return categoryConcept(OBSERVATION_CATEGORY, category, HL7_CATEGORY_DISPLAY[category]);
}

export function pulseCategoryConcept(category: MetricCategory): CodeableConcept {
  return categoryConcept(PULSE_CATEGORY_SYSTEM, category, PULSE_CATEGORY_DISPLAY[category]);
}

/** HL7's category where one fits, then Pulse's sharing category. */
export function categoriesOf(category: MetricCategory): CodeableConcept[] {
  const hl7 = HL7_CATEGORY[category];
  return hl7 === null ? [pulseCategoryConcept(category)] : [hl7CategoryConcept(hl7), pulseCategoryConcept(category)];
}

/** The UCUM unit Observations of this metric are written in (after any conversion). */
export function metricUcum(code: MetricCode): { unit: string; ucum: string } {
  const conversion = CONVERSIONS[code];
  return conversion ?? { unit: METRICS[code].unit, ucum: METRICS[code].ucum };
}

/** A value in the registry's canonical unit as the Quantity Observations of the metric carry. */
export function metricQuantity(code: MetricCode, value: number): Quantity {
  const conversion = CONVERSIONS[code];
  const { unit, ucum } = metricUcum(code);
  return { value: conversion === undefined ? value : scaled(value, conversion.factor), unit, system: UCUM, code: ucum };
}

// 1.8 m × 100 is 180.00000000000003 in binary floating point; no source measures beyond 1e-6.
function scaled(value: number, factor: number): number {
  return Math.round(value * factor * 1e6) / 1e6;
}
