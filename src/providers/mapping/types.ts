import type { MappedRecords } from "../../health-connect/mapped";

/**
 * What every provider mapping takes besides the payload, and what it returns. Mappings are pure
 * functions (payload, context) → batch: the sync driver fetches, the mapping only translates, so a
 * recorded payload replays to exactly the same batch.
 */
export interface MappingContext {
  /**
   * When Pulse fetched (or received) the payload, epoch ms. It is the `version` of documents a
   * provider revises without saying when (an Oura daily summary grows all day): the later fetch
   * replaces the earlier one, and a replayed older fetch changes nothing.
   */
  fetchedAt: number;
  /**
   * The person's IANA time zone when Pulse knows it, for the few payloads that carry UTC instants
   * only (Oura heart rate, WHOOP recovery). Without it those samples are dated in UTC.
   */
  timeZone?: string | null;
}

/**
 * HealthStore inputs (observations, sleep sessions, workouts) with every field filled in, plus the
 * provider records that could not be mapped, each with a reason naming fields, never values. The
 * same shape as the Health Connect mapping, so one ingest path serves both.
 */
export type ProviderBatch = MappedRecords;

export function emptyBatch(): ProviderBatch {
  return { observations: [], sleepSessions: [], workouts: [], rejected: [] };
}

/** One provider data type's mapping, as the sync driver calls it. */
export type ProviderMapping = (payload: unknown, context: MappingContext) => ProviderBatch;
