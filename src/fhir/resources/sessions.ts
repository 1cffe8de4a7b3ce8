/**
 * Sleep sessions and workouts as Observations with a period. No R4 core profile covers them;
 * the LOINC terms are those of HL7's Personal Health Record IG sleep value set
 * (http://hl7.org/fhir/uv/phr/ValueSet/pcd-sleep-observation-code: 93832-4 sleep duration,
 * 93831-6 deep, 93830-8 light, 93829-0 REM) and of HL7's Physical Activity IG (55411-3 exercise
 * duration, 73985-4 exercise activity). Stages LOINC has no term for (awake, in bed, unspecified
 * sleep…) are coded in Pulse's metric system only. Durations are minutes (UCUM `min`).
 */
import type { CodeableConcept, Observation as FhirObservation, ObservationComponent, Quantity } from "@medplum/fhirtypes";
import type { SleepSession, Workout } from "../../../durable-objects/health-store/read-schema";
import { SLEEP_STAGES, type SleepStage } from "../../../durable-objects/health-store/session-schema";
import { SESSIONS, type SessionCode } from "../../observations/metrics";
import { observationId } from "../ids";
import {
  type FhirContext,
  flagMarks,
  LOINC,
  metaOf,
  PULSE_EXERCISE_SYSTEM,
  PULSE_METRIC_SYSTEM,
  periodOf,
  sourceIdentifier,
  subjectOf,
  UCUM,
} from "./common";
import { deviceReference } from "./device";
import { categoriesOf } from "./metric-codes";

export const SLEEP_DURATION_LOINC = "93832-4";
export const EXERCISE_DURATION_LOINC = "55411-3";
export const EXERCISE_ACTIVITY_LOINC = "73985-4";

const STAGE_CODES: Record<SleepStage, { loinc: string | null; display: string }> = {
  awake: { loinc: null, display: "Awake" },
  sleeping: { loinc: null, display: "Asleep, stage not recorded" },
  out_of_bed: { loinc: null, display: "Out of bed" },
  light: { loinc: "93830-8", display: "Light sleep duration" },
  deep: { loinc: "93831-6", display: "Deep sleep duration" },
  rem: { loinc: "93829-0", display: "REM sleep duration" },
  awake_in_bed: { loinc: null, display: "Awake in bed" },
  unknown: { loinc: null, display: "Unknown stage" },
};

function concept(loinc: string | null, pulseCode: string, display: string): CodeableConcept {
  const pulse = { system: PULSE_METRIC_SYSTEM, code: pulseCode, display };
  return { coding: loinc === null ? [pulse] : [{ system: LOINC, code: loinc }, pulse], text: display };
}

// Whole minutes would lose a 20-second stage; two decimals keep every recorded second's order.
function minutes(ms: number): Quantity {
  return { value: Math.round(ms / 600) / 100, unit: "min", system: UCUM, code: "min" };
}

function durationWords(session: SessionCode): string {
  const { min, max } = SESSIONS[session].durationHours;
  return `duration outside the plausible range ${min}–${max} h for a ${session}`;
}

/**
 * A sleep session: `effectivePeriod` is the time in bed, the value the time asleep (light, deep,
 * REM and unspecified sleep; the whole session when the source recorded no stages), components
 * the time in bed and each recorded stage's minutes.
 */
export function sleepObservation(session: SleepSession, ctx: FhirContext): FhirObservation {
  const stages: ObservationComponent[] = SLEEP_STAGES.flatMap((stage) => {
    const ms = session.totals.byStage[stage];
    if (ms === undefined) return [];
    const { loinc, display } = STAGE_CODES[stage];
    return [{ code: concept(loinc, `sleep_stage_${stage}`, display), valueQuantity: minutes(ms) }];
  });
  return {
    resourceType: "Observation",
    id: observationId({ kind: "sleep", sessionId: session.id }),
    meta: metaOf(session, null),
    identifier: [sourceIdentifier(session)],
    status: "final",
    category: categoriesOf("sleep"),
    code: concept(SLEEP_DURATION_LOINC, "sleep", "Sleep duration"),
    subject: subjectOf(ctx),
    effectivePeriod: periodOf(session.start, session.end, session.zoneOffsetSeconds),
    valueQuantity: minutes(session.totals.asleepMs),
    ...flagMarks(session.flagged, durationWords("sleep")),
    ...(session.device === null ? {} : { device: deviceReference(session.device) }),
    component: [
      { code: concept(null, "sleep_in_bed", "Time in bed"), valueQuantity: minutes(session.totals.inBedMs) },
      ...stages,
    ],
  };
}

/** `strength_training` → "Strength training". */
export function exerciseDisplay(exerciseType: string): string {
  const words = exerciseType.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A workout: its duration as the value, its exercise type as a component, its period. */
export function workoutObservation(workout: Workout, ctx: FhirContext): FhirObservation {
  const display = exerciseDisplay(workout.exerciseType);
  return {
    resourceType: "Observation",
    id: observationId({ kind: "workout", workoutId: workout.id }),
    meta: metaOf(workout, null),
    identifier: [sourceIdentifier(workout)],
    status: "final",
    category: categoriesOf("activity"),
    code: concept(EXERCISE_DURATION_LOINC, "workout", "Exercise duration"),
    subject: subjectOf(ctx),
    effectivePeriod: periodOf(workout.start, workout.end, workout.zoneOffsetSeconds),
    valueQuantity: minutes(workout.end - workout.start),
    ...flagMarks(workout.flagged, durationWords("workout")),
    ...(workout.device === null ? {} : { device: deviceReference(workout.device) }),
    component: [
      {
        code: concept(EXERCISE_ACTIVITY_LOINC, "exercise_type", "Exercise activity"),
        valueCodeableConcept: { coding: [{ system: PULSE_EXERCISE_SYSTEM, code: workout.exerciseType, display }], text: display },
      },
    ],
  };
}
