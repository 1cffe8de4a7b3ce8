/**
 * Pulse's data as FHIR R4 resources (docs/fhir.md has the mapping and the profiles cited). Pure
 * functions of what the HealthStore answers: no I/O, so the FHIR routes, the bulk export and the
 * archive's bundle all emit the same shapes, and tests validate them with a FHIR validator.
 */
export { capabilityStatement, RESOLUTION_PARAMETER } from "./resources/capability";
export {
  type FhirContext,
  fhirDateTime,
  LOINC,
  OBSERVATION_CATEGORY,
  PULSE_CATEGORY_SYSTEM,
  PULSE_EXERCISE_SYSTEM,
  PULSE_FLAG_SYSTEM,
  PULSE_METRIC_SYSTEM,
  PULSE_SUMMARY_SYSTEM,
  SOURCE_URN_PREFIX,
  sourceUri,
  UCUM,
} from "./resources/common";
export { type DeviceFacts, deviceId, deviceReference, deviceResource, isDeviceId } from "./resources/device";
export {
  BLOOD_PRESSURE_PROFILE,
  HL7_CATEGORY,
  type Hl7Category,
  metricLoincCodes,
  metricProfile,
  metricUcum,
  VITAL_SIGNS_PROFILE,
} from "./resources/metric-codes";
export {
  BLOOD_PRESSURE_PANEL_LOINC,
  bloodPressureObservation,
  hourlyObservation,
  sampleObservation,
} from "./resources/observations";
export { type PatientFacts, patientResource } from "./resources/patient";
export {
  EXERCISE_ACTIVITY_LOINC,
  EXERCISE_DURATION_LOINC,
  SLEEP_DURATION_LOINC,
  sleepObservation,
  workoutObservation,
} from "./resources/sessions";
