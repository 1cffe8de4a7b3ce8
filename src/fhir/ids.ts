/**
 * FHIR resource ids of Pulse's data. FHIR ids are `[A-Za-z0-9\-.]{1,64}`: no underscores, so
 * Pulse's own ids (`usr_…`, metric codes in snake_case) are written with dashes and read back.
 *
 *   Patient      usr-<26>                  the person, from their user id `usr_<26>`
 *   Observation  obs-<rowid>               one stored sample (HealthStore observation row id)
 *                bp-<systolic rowid>       a blood-pressure panel: systolic and diastolic together
 *                sleep-<session id>        a sleep session with its stages
 *                workout-<workout id>      a workout
 *                hourly-<metric>-<ms>      one hour's summary of a minute-level series
 *   Device       dev-<hex>                 a recording device or app, from a hash of its name
 */
export type ObservationRef =
  | { kind: "sample"; rowId: number }
  | { kind: "blood_pressure"; systolicRowId: number }
  | { kind: "sleep"; sessionId: number }
  | { kind: "workout"; workoutId: number }
  | { kind: "hourly"; metric: string; start: number };

const ROW_ID = "([1-9][0-9]{0,15})";
const PATTERNS: [RegExp, (match: RegExpExecArray) => ObservationRef][] = [
  [new RegExp(`^obs-${ROW_ID}$`), (m) => ({ kind: "sample", rowId: Number(m[1]) })],
  [new RegExp(`^bp-${ROW_ID}$`), (m) => ({ kind: "blood_pressure", systolicRowId: Number(m[1]) })],
  [new RegExp(`^sleep-${ROW_ID}$`), (m) => ({ kind: "sleep", sessionId: Number(m[1]) })],
  [new RegExp(`^workout-${ROW_ID}$`), (m) => ({ kind: "workout", workoutId: Number(m[1]) })],
  [
    /^hourly-([a-z][a-z0-9-]{0,40})-(0|[1-9][0-9]{0,14})$/,
    (m) => ({ kind: "hourly", metric: (m[1] ?? "").replaceAll("-", "_"), start: Number(m[2]) }),
  ],
];

export function observationId(ref: ObservationRef): string {
  switch (ref.kind) {
    case "sample":
      return `obs-${ref.rowId}`;
    case "blood_pressure":
      return `bp-${ref.systolicRowId}`;
    case "sleep":
      return `sleep-${ref.sessionId}`;
    case "workout":
      return `workout-${ref.workoutId}`;
    case "hourly":
      return `hourly-${ref.metric.replaceAll("_", "-")}-${ref.start}`;
  }
}

/** The reference an Observation id stands for, or null when it is not one Pulse could have issued. */
export function parseObservationId(id: string): ObservationRef | null {
  for (const [pattern, read] of PATTERNS) {
    const match = pattern.exec(id);
    if (match !== null) {
      const ref = read(match);
      const safe = Object.values(ref).every((part) => typeof part !== "number" || Number.isSafeInteger(part));
      return safe ? ref : null;
    }
  }
  return null;
}

const USER_ID = /^usr_([a-z2-7]{26})$/;
// The user id itself (`usr_…`, what sign-up prints) is read as the Patient id it stands for: FHIR
// ids cannot hold `_`, but a person or clinician pasting the id they were given should not get a 404.
const PATIENT_ID = /^usr[-_]([a-z2-7]{26})$/;

export function patientId(userId: string): string {
  const match = USER_ID.exec(userId);
  if (match === null) throw new Error("not a user id");
  return `usr-${match[1]}`;
}

/** The user id a Patient id (or the user id itself) names, or null when it is neither. */
export function userIdOfPatient(id: string): string | null {
  const match = PATIENT_ID.exec(id);
  return match === null ? null : `usr_${match[1]}`;
}
