/**
 * The resumable walk every polling driver does over a sync range, and the dispatch of its records
 * to the provider's mappings (DESIGN §7).
 *
 * A range is walked data type by data type (the provider's endpoints, in the driver's order), each
 * type in windows of at most the provider's request span, each window through the provider's own
 * paging. One call fetches one page; the `SyncCursor` it returns names the data type, the window's
 * start and the provider's page token, so a sync that crashes resumes at the page it had not
 * stored, and a finished walk returns `next: null`. The cursor is plain JSON and never holds a
 * token or a health value.
 *
 * Records leave `fetchRange` as `TypedRecord`s, `{type, payload}`: one provider item (an Oura
 * document, a WHOOP record, a Dexcom EGV, a Withings measure group or night) tagged with the data
 * type it was fetched as, so `map` picks the mapping without guessing. `map` regroups them by type
 * into the collection envelope each mapping reads (`{data: [...]}`, `{records: [...]}`, …).
 */

import { DomainError } from "../errors/domain-error";
import type { MappedRecords } from "../health-connect/mapped";
import type { FetchPage, SyncCursor, TimeRange } from "./driver";
import type { ProviderMapping } from "./mapping/types";

/** One raw provider item and the data type (the mapping key) it was fetched as. */
export interface TypedRecord {
  type: string;
  payload: unknown;
}

/** Where a walk stands: the data type, the window `[windowStart, windowEnd)` and the page token. */
export interface WalkStep {
  dataType: string;
  windowStart: Date;
  windowEnd: Date;
  pageToken: string | null;
}

export interface WalkPlan {
  /** The provider's data types, walked in this order. */
  dataTypes: readonly string[];
  /** The longest span one request may cover; null when the provider sets none (one window). */
  windowDays: number | null;
}

/** What a driver's request for one step answers: the items and the provider's next page, if any. */
export interface WindowPage {
  items: unknown[];
  pageToken: string | null;
}

const DAY_MS = 86_400_000;

/**
 * Fetches the page `cursor` points at (the first when null) and says where the next one is. An
 * empty range has nothing to fetch.
 */
export async function walkRange(
  range: TimeRange,
  cursor: SyncCursor | null,
  plan: WalkPlan,
  fetchStep: (step: WalkStep) => Promise<WindowPage>,
): Promise<FetchPage<TypedRecord>> {
  if (!(range.since.getTime() < range.until.getTime())) return { records: [], next: null };
  const step = stepAt(range, cursor, plan);
  const page = await fetchStep(step);
  return {
    records: page.items.map((payload) => ({ type: step.dataType, payload })),
    next: nextCursor(step, range, plan, page.pageToken),
  };
}

/** The step a cursor names, checked against the range and the plan (a checkpoint is data too). */
export function stepAt(range: TimeRange, cursor: SyncCursor | null, plan: WalkPlan): WalkStep {
  const first = plan.dataTypes[0];
  if (first === undefined) throw new DomainError("INTERNAL", "A provider walk needs at least one data type.");
  if (cursor === null) return windowFrom(first, range.since, range, plan, null);
  const dataType = cursor.dataType ?? first;
  const start = Date.parse(cursor.windowStart);
  const errors = [];
  if (!plan.dataTypes.includes(dataType)) errors.push({ path: "cursor.dataType", message: "not a data type of this provider" });
  if (Number.isNaN(start) || start < range.since.getTime() || start >= range.until.getTime()) {
    errors.push({ path: "cursor.windowStart", message: "not an instant inside the sync range" });
  }
  if (errors.length > 0) {
    throw new DomainError("VALIDATION_FAILED", "The sync checkpoint does not belong to this range.", { errors });
  }
  return windowFrom(dataType, new Date(start), range, plan, cursor.pageToken);
}

function windowFrom(dataType: string, start: Date, range: TimeRange, plan: WalkPlan, pageToken: string | null): WalkStep {
  const limit = plan.windowDays === null ? range.until.getTime() : start.getTime() + plan.windowDays * DAY_MS;
  return { dataType, windowStart: start, windowEnd: new Date(Math.min(limit, range.until.getTime())), pageToken };
}

/**
 * The window as the inclusive calendar days (UTC) a day-based endpoint takes: the last day is the
 * one before the window's end instant, so consecutive windows do not ask for a day twice when the
 * range starts at midnight.
 */
export function inclusiveDays(step: WalkStep): { first: string; last: string } {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const start = step.windowStart.getTime();
  return { first: day(start), last: day(Math.max(start, step.windowEnd.getTime() - 1)) };
}

/** The page after `step`: the provider's next page, else the next window, else the next data type. */
export function nextCursor(step: WalkStep, range: TimeRange, plan: WalkPlan, pageToken: string | null): SyncCursor | null {
  if (pageToken !== null) return { dataType: step.dataType, windowStart: step.windowStart.toISOString(), pageToken };
  if (step.windowEnd.getTime() < range.until.getTime()) {
    return { dataType: step.dataType, windowStart: step.windowEnd.toISOString(), pageToken: null };
  }
  const following = plan.dataTypes[plan.dataTypes.indexOf(step.dataType) + 1];
  if (following === undefined) return null;
  return { dataType: following, windowStart: range.since.toISOString(), pageToken: null };
}

/**
 * Maps fetched records with the provider's mappings: records are grouped by type (in the order
 * types first appear), wrapped in the envelope the mapping reads, and the batches merged. A record
 * of a type without a mapping, or not shaped `{type, payload}`, is rejected, never thrown.
 */
export function mapTypedRecords(
  records: readonly unknown[],
  mappings: Readonly<Record<string, ProviderMapping>>,
  envelope: (type: string, items: unknown[]) => unknown,
  timeZone: string | null,
  fetchedAt: number = Date.now(),
): MappedRecords {
  const merged: MappedRecords = { observations: [], sleepSessions: [], workouts: [], rejected: [] };
  const groups = new Map<string, unknown[]>();
  for (const record of records) {
    if (!isTypedRecord(record)) {
      merged.rejected.push({ sourceRecordId: null, reason: "record is not shaped {type, payload}" });
      continue;
    }
    const group = groups.get(record.type) ?? [];
    group.push(record.payload);
    groups.set(record.type, group);
  }
  for (const [type, items] of groups) {
    const mapping = Object.hasOwn(mappings, type) ? mappings[type] : undefined;
    if (mapping === undefined) {
      for (const _ of items) merged.rejected.push({ sourceRecordId: null, reason: "record type has no mapping" });
      continue;
    }
    const batch = mapping(envelope(type, items), { fetchedAt, timeZone });
    merged.observations.push(...batch.observations);
    merged.sleepSessions.push(...batch.sleepSessions);
    merged.workouts.push(...batch.workouts);
    merged.rejected.push(...batch.rejected);
  }
  return merged;
}

function isTypedRecord(value: unknown): value is TypedRecord {
  return (
    typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string" && "payload" in value
  );
}
