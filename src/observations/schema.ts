import { z } from "@hono/zod-openapi";
import { dateSchema, LAST_DATE, RANGE_TEXT } from "./dates";

/**
 * Shapes of the read API (DESIGN §3, §5). Query strings are checked here for shape; what depends
 * on the time zone (dates, ranges) is checked by ./read-query.ts, against the one supported range
 * of ./dates.ts. Unknown parameters are refused, so nothing (a user id, say) can be slipped in
 * beside the ones a route reads.
 */
const instantParam = (description: string) =>
  z
    .string()
    .max(40)
    .optional()
    .openapi({
      description: `${description} ISO 8601 date-time with offset, or a date (local midnight in \`tz\`), ${RANGE_TEXT} (until ${LAST_DATE}T00:00:00Z).`,
    });

const tzParam = z.string().min(1).max(64).default("UTC").openapi({
  description: "IANA time zone (`Europe/Paris`), fixed offset (`+05:30`) or `UTC`: where days and hours begin.",
  example: "Europe/Paris",
});

const cursorParam = z.string().min(1).max(200).optional().openapi({ description: "`nextCursor` of the previous page" });

const metricsParam = z
  .string()
  .min(1)
  .max(1_000)
  .openapi({ description: "Comma-separated metric codes (DESIGN §5)", example: "heart_rate,steps" });

export const ObservationQuerySchema = z.strictObject({
  metrics: metricsParam,
  since: instantParam("Inclusive start of the range; `until` minus one day (raw), 7 days (hour) or 30 days (day) by default."),
  until: instantParam("Exclusive end of the range; now by default."),
  resolution: z.enum(["raw", "hour", "day"]).default("raw").openapi({
    description: "`raw` observations (at most 31 days), or `hour` (92 days) / `day` (732 days) buckets",
  }),
  tz: tzParam,
  cursor: cursorParam,
  limit: z.coerce.number().int().min(1).max(5_000).default(1_000),
});

export const LatestQuerySchema = z.strictObject({ metrics: metricsParam });

export const SessionQuerySchema = z.strictObject({
  since: instantParam("Sessions ending after this instant; 30 days before `until` by default."),
  until: instantParam("Sessions starting before this instant; now by default."),
  tz: tzParam,
  cursor: cursorParam,
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

export const SummaryQuerySchema = z.strictObject({
  date: dateSchema.openapi({ description: `The local calendar date, ${RANGE_TEXT}` }),
  tz: tzParam,
});

const instant = z.string().openapi({ format: "date-time" });
const source = {
  sourceKind: z.enum(["upload", "provider"]),
  sourceApp: z.string(),
  sourceRecordId: z.string(),
  device: z.string().nullable(),
  version: z.number().int(),
  zoneOffsetSeconds: z.number().int().nullable(),
  localDate: z.string().openapi({ format: "date" }),
  flagged: z.boolean().openapi({ description: "Outside the plausible range: kept, shown, never summed" }),
};

export const ObservationSchema = z
  .object({
    id: z.number().int(),
    metric: z.string(),
    start: instant,
    end: instant,
    value: z.number(),
    unit: z.string(),
    ...source,
  })
  .openapi("Observation");

export const BucketSchema = z
  .object({
    metric: z.string(),
    start: instant,
    end: instant,
    avg: z.number(),
    min: z.number(),
    max: z.number(),
    count: z.number().int(),
    sum: z.number().optional().openapi({ description: "For metrics that add up (steps, energy, intake)" }),
    unit: z.string(),
  })
  .openapi("ObservationBucket", { description: "Unflagged samples starting in one hour or local day" });

export const ObservationPageSchema = z
  .object({ items: z.array(z.union([ObservationSchema, BucketSchema])), nextCursor: z.string().nullable() })
  .openapi("ObservationPage");

export const LatestSchema = z.object({ items: z.array(ObservationSchema) }).openapi("LatestObservations");

const stageTotals = z.record(z.string(), z.number()).openapi({ description: "Seconds per sleep stage" });

export const SleepSessionSchema = z
  .object({
    id: z.number().int(),
    start: instant,
    end: instant,
    title: z.string().nullable(),
    notes: z.string().nullable(),
    ...source,
    stages: z.array(z.object({ stage: z.string(), start: instant, end: instant })),
    totals: z.object({
      inBedSeconds: z.number(),
      asleepSeconds: z
        .number()
        .openapi({ description: "Light, deep, REM and unspecified sleep; the whole session without stages" }),
      stages: stageTotals,
    }),
  })
  .openapi("SleepSession");

export const SleepPageSchema = z
  .object({ items: z.array(SleepSessionSchema), nextCursor: z.string().nullable() })
  .openapi("SleepPage");

export const WorkoutSchema = z
  .object({
    id: z.number().int(),
    exerciseType: z.string(),
    start: instant,
    end: instant,
    durationSeconds: z.number(),
    title: z.string().nullable(),
    notes: z.string().nullable(),
    ...source,
  })
  .openapi("Workout");

export const WorkoutPageSchema = z
  .object({ items: z.array(WorkoutSchema), nextCursor: z.string().nullable() })
  .openapi("WorkoutPage");

const stats = z.object({ avg: z.number(), min: z.number(), max: z.number(), count: z.number().int() });

export const DailySummarySchema = z
  .object({
    date: z.string().openapi({ format: "date" }),
    timeZone: z.string(),
    start: instant,
    end: instant,
    steps: z.number().nullable(),
    activeEnergy: z.number().nullable(),
    totalEnergy: z.number().nullable(),
    heartRate: stats.nullable(),
    restingHeartRate: z.number().nullable(),
    hrvRmssd: z.number().nullable(),
    hrvSdnn: z.number().nullable(),
    glucose: stats.extend({ timeInRangePercent: z.number().openapi({ description: "Readings within 70-180 mg/dL" }) }).nullable(),
    sleep: z.object({ sessions: z.number().int(), inBedSeconds: z.number(), asleepSeconds: z.number(), stages: stageTotals }),
    workouts: z.object({ count: z.number().int(), durationSeconds: z.number() }),
    units: z.record(z.string(), z.string()).openapi({ description: "The unit of each value above" }),
  })
  .openapi("DailySummary");

export type ObservationItem = z.infer<typeof ObservationSchema>;
export type BucketItem = z.infer<typeof BucketSchema>;
export type SleepSessionItem = z.infer<typeof SleepSessionSchema>;
export type WorkoutItem = z.infer<typeof WorkoutSchema>;
export type DailySummaryBody = z.infer<typeof DailySummarySchema>;
