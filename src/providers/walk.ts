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
 * Records leave `fetchRange` as `ProviderRecord`s, `{type, payload, fetchedAt}`: one provider item
 * (an Oura document, a Strava activity, a Dexcom EGV, a Google Health data point) tagged with the
 * data type it was fetched as, so `map` picks the mapping without guessing, and with the instant
 * Pulse fetched it, the `version` of documents a provider revises without saying when
 * (src/providers/mapping/types.ts) — taken at fetch time so mapping a stored page later, or again,
 * gives the same batch. `map` regroups records into the envelope each mapping reads.
 */

import { DomainError } from "../errors/domain-error";
import type { MappedRecords } from "../health-connect/mapped";
import type { FetchPage, SyncCursor, TimeRange } from "./driver";
import type { ProviderMapping } from "./mapping/types";

/** One raw provider item, the data type (the mapping key) it was fetched as, and when (epoch ms). */
export interface ProviderRecord {
  type: string;
  payload: unknown;
  fetchedAt: number;
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
  /**
   * The provider has nothing of this type in any window (the person's grant does not cover it):
   * the walk goes on with the next type instead of asking every remaining window.
   */
  typeExhausted?: boolean;
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
): Promise<FetchPage<ProviderRecord>> {
  if (!(range.since.getTime() < range.until.getTime())) return { records: [], next: null };
  const step = stepAt(range, cursor, plan);
  const fetchedAt = Date.now();
  const page = await fetchStep(step);
  const next = page.typeExhausted
    ? nextCursor({ ...step, windowEnd: range.until }, range, plan, null)
    : nextCursor(step, range, plan, page.pageToken);
  return { records: page.items.map((payload) => ({ type: step.dataType, payload, fetchedAt })), next };
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
 * Maps fetched records with the provider's mappings. Records are grouped by type and fetch (in the
 * order groups first appear), `inputs` rebuilds what the mapping reads from a group's payloads
 * (usually one collection envelope, `{data: [...]}`; Terra's payloads are envelopes already), and
 * the batches are merged. A record of a type without a mapping, or not shaped like a
 * `ProviderRecord`, is rejected, never thrown: the others still map.
 */
export function mapRecords(
  records: readonly unknown[],
  mappings: Readonly<Record<string, ProviderMapping>>,
  inputs: (type: string, payloads: unknown[]) => unknown[],
  timeZone: string | null,
): MappedRecords {
  const merged: MappedRecords = { observations: [], sleepSessions: [], workouts: [], rejected: [] };
  const groups = new Map<string, { type: string; fetchedAt: number; payloads: unknown[] }>();
  for (const record of records) {
    if (!isProviderRecord(record)) {
      merged.rejected.push({ sourceRecordId: null, reason: "record is not shaped {type, payload, fetchedAt}" });
      continue;
    }
    const key = `${record.fetchedAt} ${record.type}`;
    const group = groups.get(key) ?? { type: record.type, fetchedAt: record.fetchedAt, payloads: [] };
    group.payloads.push(record.payload);
    groups.set(key, group);
  }
  for (const { type, fetchedAt, payloads } of groups.values()) {
    const mapping = Object.hasOwn(mappings, type) ? mappings[type] : undefined;
    if (mapping === undefined) {
      for (const _ of payloads) merged.rejected.push({ sourceRecordId: null, reason: "record type has no mapping" });
      continue;
    }
    for (const input of inputs(type, payloads)) {
      const batch = mapping(input, { fetchedAt, timeZone });
      // Loops, not spreads: a page of samples is past what a spread call's arguments may hold.
      for (const item of batch.observations) merged.observations.push(item);
      for (const item of batch.sleepSessions) merged.sleepSessions.push(item);
      for (const item of batch.workouts) merged.workouts.push(item);
      for (const item of batch.rejected) merged.rejected.push(item);
    }
  }
  return merged;
}

function isProviderRecord(value: unknown): value is ProviderRecord {
  if (typeof value !== "object" || value === null || !("payload" in value)) return false;
  const { type, fetchedAt } = value as { type?: unknown; fetchedAt?: unknown };
  return typeof type === "string" && typeof fetchedAt === "number" && Number.isFinite(fetchedAt);
}
