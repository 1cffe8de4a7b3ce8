import type { ObservationInput } from "../../durable-objects/health-store/schema";
import type { SleepSessionInput, WorkoutInput } from "../../durable-objects/health-store/session-schema";

/**
 * What mapping Health Connect records yields: HealthStore inputs (durable-objects/health-store/
 * schema.ts and session-schema.ts) with every field filled in, and the records that could not be
 * mapped at all, each with a reason that names fields, never values.
 */
export type MappedObservation = Required<ObservationInput>;
export type MappedSleepSession = Required<SleepSessionInput>;
export type MappedWorkout = Required<WorkoutInput>;

export interface RejectedRecord {
  /** `metadata.id` when it could be read. */
  sourceRecordId: string | null;
  reason: string;
}

export interface MappedRecords {
  observations: MappedObservation[];
  sleepSessions: MappedSleepSession[];
  workouts: MappedWorkout[];
  rejected: RejectedRecord[];
}

export function emptyMapped(): MappedRecords {
  return { observations: [], sleepSessions: [], workouts: [], rejected: [] };
}
