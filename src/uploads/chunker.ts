/**
 * Cuts the mapped records of a file into the chunks the ingest job writes one at a time: at most
 * 10,000 observations, or 200 sessions with at most 10,000 sleep stages, per HealthStore call (well
 * inside its batch bounds and a Durable Object's CPU and memory). A long series record is split
 * across chunks; the store's per-record versioning makes that safe.
 *
 * The cut depends only on the file's records, in order, so the same file always gives the same
 * chunks: chunk n of a retried ingest is chunk n of the first attempt, which is what lets a retry
 * skip the chunks already written (the upload's progress in the HealthStore).
 */
import type { MappedObservation, MappedRecords, MappedSleepSession, MappedWorkout } from "../health-connect/mapped";

export const CHUNK_OBSERVATIONS = 10_000;
export const CHUNK_SESSIONS = 200;
export const CHUNK_STAGES = 10_000;

export interface Chunk {
  index: number;
  observations: MappedObservation[];
  sleepSessions: MappedSleepSession[];
  workouts: MappedWorkout[];
  /** Records that could not be mapped since the previous chunk. */
  rejected: number;
}

export class Chunker {
  #index = 0;
  #observations: MappedObservation[] = [];
  #sleepSessions: MappedSleepSession[] = [];
  #workouts: MappedWorkout[] = [];
  #stages = 0;
  #rejected = 0;
  readonly #maxObservations: number;

  /** `maxObservations` below the default makes many chunks of a small file (tests of chunking). */
  constructor(maxObservations = CHUNK_OBSERVATIONS) {
    this.#maxObservations = Math.min(Math.max(1, maxObservations), CHUNK_OBSERVATIONS);
  }

  add(mapped: MappedRecords): void {
    for (const observation of mapped.observations) this.#observations.push(observation);
    for (const session of mapped.sleepSessions) {
      this.#sleepSessions.push(session);
      this.#stages += session.stages.length;
    }
    for (const workout of mapped.workouts) this.#workouts.push(workout);
    this.#rejected += mapped.rejected.length;
  }

  /** The next full chunk, or with `final` whatever is left (null when nothing is). */
  take(final = false): Chunk | null {
    const sessions = this.#sleepSessions.length + this.#workouts.length;
    const full = this.#observations.length >= this.#maxObservations || sessions >= CHUNK_SESSIONS || this.#stages >= CHUNK_STAGES;
    if (!full && !(final && (this.#observations.length > 0 || sessions > 0 || this.#rejected > 0))) return null;

    const observations = this.#observations.splice(0, this.#maxObservations);
    const sleepSessions = this.#takeSleep();
    const workouts = this.#workouts.splice(0, CHUNK_SESSIONS - sleepSessions.length);
    const chunk = { index: this.#index++, observations, sleepSessions, workouts, rejected: this.#rejected };
    this.#rejected = 0;
    return chunk;
  }

  #takeSleep(): MappedSleepSession[] {
    let count = 0;
    let stages = 0;
    for (const session of this.#sleepSessions) {
      if (count === CHUNK_SESSIONS || (count > 0 && stages + session.stages.length > CHUNK_STAGES)) break;
      count++;
      stages += session.stages.length;
    }
    this.#stages -= stages;
    return this.#sleepSessions.splice(0, count);
  }
}
