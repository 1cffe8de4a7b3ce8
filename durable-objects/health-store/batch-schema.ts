import { z } from "zod";
import { fastParseAll, fastParseObservation } from "./fast-parse";
import { type PackedObservations, unpackObservations } from "./packed";
import { type IngestResult, MAX_INGEST_BATCH, type ObservationInput, observationInputSchema } from "./schema";
import { sleepSessionInputSchema, workoutInputSchema } from "./session-schema";
import { parseArgument } from "./validate";

/**
 * One ingestion batch: observations, sleep sessions and workouts written together, in one
 * transaction with one audit event. Bounded so a batch stays well inside a Durable Object's CPU
 * and memory limits (the ETL sends a large file as several batches).
 */
export const MAX_BATCH_SESSIONS = 1_000;
export const MAX_BATCH_STAGES = 20_000;

const sessionFields = {
  sleepSessions: z.array(sleepSessionInputSchema).max(MAX_BATCH_SESSIONS).default([]),
  workouts: z.array(workoutInputSchema).max(MAX_BATCH_SESSIONS).default([]),
};
function withinStageLimit(batch: { sleepSessions: { stages: unknown[] }[] }): boolean {
  return batch.sleepSessions.reduce((total, session) => total + session.stages.length, 0) <= MAX_BATCH_STAGES;
}
const STAGE_LIMIT_ISSUE = { path: ["sleepSessions"], message: `at most ${MAX_BATCH_STAGES} sleep stages in one batch` };

export const ingestBatchInputSchema = z
  .strictObject({ observations: z.array(observationInputSchema).max(MAX_INGEST_BATCH).default([]), ...sessionFields })
  .refine(withinStageLimit, STAGE_LIMIT_ISSUE);

/** The same batch with observations left unparsed, for when the fast path has parsed them. */
const sessionsOnlySchema = z
  .strictObject({ observations: z.array(z.unknown()).max(MAX_INGEST_BATCH), ...sessionFields })
  .refine(withinStageLimit, STAGE_LIMIT_ISSUE);

/** Observations as objects, or packed into columns (./packed.ts) when the batch is large. */
export type IngestBatchInput = Omit<z.input<typeof ingestBatchInputSchema>, "observations"> & {
  observations?: ObservationInput[] | PackedObservations;
};
export type IngestBatch = z.output<typeof ingestBatchInputSchema>;

export interface BatchIngestResult {
  observations: IngestResult;
  sleepSessions: IngestResult;
  workouts: IngestResult;
  /**
   * Set when the batch stored something and no narrative refresh is pending: the caller queues
   * one (src/narratives/refresh.ts `queueNarrativeRefresh`).
   */
  narrativesRefresh?: boolean;
}

/** The batch's extent: [first start, last end) (an instant counts as 1 ms) and its latest start. */
export function batchSpan(batch: IngestBatch): { since: number; until: number; latestStart: number } {
  let since = Number.POSITIVE_INFINITY;
  let until = Number.NEGATIVE_INFINITY;
  let latestStart = Number.NEGATIVE_INFINITY;
  for (const items of [batch.observations, batch.sleepSessions, batch.workouts]) {
    for (const item of items) {
      if (item.start < since) since = item.start;
      if (item.start > latestStart) latestStart = item.start;
      const end = Math.max(item.end, item.start + 1);
      if (end > until) until = end;
    }
  }
  return { since, until, latestStart };
}

/**
 * Parses a batch; observations go through the fast path when every one of them is recognised.
 * Anything else is parsed whole by zod, so a bad batch reports every issue with its path.
 */
export function parseIngestBatch(value: unknown): IngestBatch {
  const input =
    isRecord(value) && isPacked(value.observations) ? { ...value, observations: unpackObservations(value.observations) } : value;
  if (isRecord(input) && "observations" in input) {
    const observations = fastParseAll(input.observations, MAX_INGEST_BATCH, fastParseObservation);
    if (observations !== null) {
      const rest = sessionsOnlySchema.safeParse(input);
      if (rest.success) return { ...rest.data, observations };
    }
  }
  return parseArgument(ingestBatchInputSchema, input, "batch");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPacked(observations: unknown): boolean {
  return typeof observations === "object" && observations !== null && !Array.isArray(observations);
}
