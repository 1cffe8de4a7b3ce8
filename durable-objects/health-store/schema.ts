import { z } from "zod";
import { ACTOR_ROLES, auditActionSchema, auditContextSchema } from "../../src/audit/event";

/**
 * What crosses the HealthStore's RPC boundary, validated on arrival even though the Worker has
 * validated it already: the store is the last line before a person's health data.
 */
/** The last instant the store accepts: 9999-12-31T23:59:59.999Z. */
export const EPOCH_MS_MAX = 253_402_300_799_999;
const epochMs = z.number().int().min(0).max(EPOCH_MS_MAX);
const text = (max: number) => z.string().min(1).max(max);

/** Metric codes are snake_case (DESIGN §5); the registry itself is checked by the caller. */
export const metricCodeSchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "metric must be a snake_case code");

export const SOURCE_KINDS = ["upload", "provider"] as const;

export const observationInputSchema = z
  .strictObject({
    metric: metricCodeSchema,
    /** Epoch milliseconds, UTC; `end` equals `start` for an instantaneous sample. */
    start: epochMs,
    end: epochMs,
    value: z.number(),
    unit: text(32),
    sourceKind: z.enum(SOURCE_KINDS),
    /** The app package (uploads) or provider name that produced the record. */
    sourceApp: text(256),
    device: text(256).nullable().default(null),
    sourceRecordId: text(256),
    zoneOffsetSeconds: z.number().int().min(-64_800).max(64_800).nullable().default(null),
    localDate: z.iso.date(),
    /** Outside physiological range: kept, never silently dropped (DESIGN §6). */
    flagged: z.boolean().default(false),
    /** The source record's version; a higher one replaces every sample of the older. */
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  })
  .refine((obs) => obs.end >= obs.start, { path: ["end"], message: "end must not be before start" });

export type ObservationInput = z.input<typeof observationInputSchema>;
export type ObservationRecord = z.output<typeof observationInputSchema>;

export const MAX_INGEST_BATCH = 10_000;
export const ingestBatchSchema = z.array(observationInputSchema).min(1).max(MAX_INGEST_BATCH);

/** The audit context plus the user whose store this is; a store serves exactly one subject. */
export const storeAuditContextSchema = auditContextSchema.extend({ subject: text(128) });
export type StoreAuditContext = z.infer<typeof storeAuditContextSchema>;

/**
 * A page of the audit chain, newest first, filtered in SQL: by who acted (`actor`, or everyone but
 * `excludeActor`), their role, the action, and `at` within [since, until) (epoch milliseconds).
 */
export const accessLogQuerySchema = z
  .strictObject({
    limit: z.number().int().min(1).max(500).default(50),
    cursor: text(200).optional(),
    actor: text(128).optional(),
    excludeActor: text(128).optional(),
    role: z.enum(ACTOR_ROLES).optional(),
    action: auditActionSchema.optional(),
    since: epochMs.optional(),
    until: epochMs.optional(),
  })
  .refine((query) => query.since === undefined || query.until === undefined || query.since <= query.until, {
    path: ["until"],
    message: "until must not be before since",
  });
export type AccessLogQuery = z.input<typeof accessLogQuerySchema>;
export type ParsedAccessLogQuery = z.output<typeof accessLogQuerySchema>;

export interface Observation extends ObservationRecord {
  id: number;
}

export interface IngestResult {
  /** New samples stored. */
  accepted: number;
  /** Already stored at the same or a newer version of their source record, or repeated in the batch. */
  duplicate: number;
  /** Stored as a newer version of a source record, whose older samples were removed. */
  replaced: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
