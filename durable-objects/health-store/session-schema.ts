import { z } from "zod";
import { SOURCE_KINDS } from "./schema";

/**
 * Sleep sessions and workouts as they cross the HealthStore's RPC boundary (DESIGN §5). Like
 * observations they are keyed by their source record (`sourceKind`, `sourceApp`, `sourceRecordId`)
 * and a higher `version` replaces an older one whole, stages included.
 */
const EPOCH_MS_MAX = 253_402_300_799_999;
const epochMs = z.number().int().min(0).max(EPOCH_MS_MAX);
const text = (max: number) => z.string().min(1).max(max);

export const SLEEP_STAGES = ["awake", "sleeping", "out_of_bed", "light", "deep", "rem", "awake_in_bed", "unknown"] as const;
export type SleepStage = (typeof SLEEP_STAGES)[number];

const sessionBase = {
  sourceKind: z.enum(SOURCE_KINDS),
  sourceApp: text(256),
  sourceRecordId: text(256),
  version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  start: epochMs,
  end: epochMs,
  zoneOffsetSeconds: z.number().int().min(-64_800).max(64_800).nullable().default(null),
  /** The local date the session belongs to (for sleep: the date of its end, the morning). */
  localDate: z.iso.date(),
  title: text(500).nullable().default(null),
  notes: text(2_000).nullable().default(null),
  device: text(256).nullable().default(null),
  /** Outside plausible range (e.g. sleep shorter than 0.5 h or longer than 16 h): kept, flagged. */
  flagged: z.boolean().default(false),
};

export const sleepStageInputSchema = z
  .strictObject({ stage: z.enum(SLEEP_STAGES), start: epochMs, end: epochMs })
  .refine((s) => s.end >= s.start, { path: ["end"], message: "end must not be before start" });

export const sleepSessionInputSchema = z
  .strictObject({ ...sessionBase, stages: z.array(sleepStageInputSchema).max(2_000).default([]) })
  .refine((s) => s.end >= s.start, { path: ["end"], message: "end must not be before start" });

export const workoutInputSchema = z
  .strictObject({
    ...sessionBase,
    /** snake_case exercise type, e.g. `running`, `biking`, `strength_training`; `other` when unknown. */
    exerciseType: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
  })
  .refine((s) => s.end >= s.start, { path: ["end"], message: "end must not be before start" });

export type SleepSessionInput = z.input<typeof sleepSessionInputSchema>;
export type WorkoutInput = z.input<typeof workoutInputSchema>;
