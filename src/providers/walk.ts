/**
 * How drivers walk a sync range one page at a time (`ProviderDriver.fetchRange`, ./driver.ts), and
 * how their raw records find their mapping again (`map`).
 *
 * A range is walked data type by data type (in the driver's order); within a type, in windows of at
 * most the provider's `maxWindowDays` (the whole range when it has no limit); within a window, the
 * provider's own paging. The cursor names exactly that position — `{dataType, windowStart,
 * pageToken}` — so a sync that stops after any page resumes on the next one and never yields a
 * page twice. The cursor is stored as the connection's checkpoint: it carries positions only.
 *
 * Raw records are one provider item each, tagged with the data type it came from and the instant
 * Pulse fetched it (`fetchedAt`, the version of documents a provider revises without saying when:
 * src/providers/mapping/types.ts), so `map` is a pure function of what was fetched.
 */
import { DomainError } from "../errors/domain-error";
import type { FetchPage, MappedProviderData, SyncCursor, TimeRange } from "./driver";
import type { ProviderMapping } from "./mapping/types";

const DAY_MS = 86_400_000;

/** One raw provider item: its data type (the key of the provider's `*_MAPPINGS`) and its JSON. */
export interface ProviderRecord {
  type: string;
  payload: unknown;
  /** When Pulse fetched it, epoch ms. */
  fetchedAt: number;
}

/** Where a walk stands: the data type, and the window `[start, end)` inside the range. */
export interface WalkPosition<Type extends string> {
  dataType: Type;
  start: Date;
  end: Date;
  pageToken: string | null;
}

/**
 * The position `cursor` names in `range` (the first one when null). A cursor that does not fit
 * the range or names an unknown type is refused: resuming elsewhere would skip or repeat data.
 */
export function positionOf<Type extends string>(
  range: TimeRange,
  cursor: SyncCursor | null,
  types: readonly Type[],
  maxWindowDays: number | null,
): WalkPosition<Type> {
  if (range.since.getTime() >= range.until.getTime()) throw new DomainError("BAD_REQUEST", "The sync range is empty.");
  const [first] = types;
  if (first === undefined) throw new DomainError("INTERNAL", "A driver walks at least one data type.");
  if (cursor === null) return { dataType: first, ...windowAt(range, range.since, maxWindowDays), pageToken: null };
  const dataType = types.find((type) => type === cursor.dataType);
  const start = new Date(cursor.windowStart);
  if (dataType === undefined || Number.isNaN(start.getTime()) || start < range.since || start >= range.until) {
    throw new DomainError("BAD_REQUEST", "The sync checkpoint does not belong to this range.");
  }
  return { dataType, ...windowAt(range, start, maxWindowDays), pageToken: cursor.pageToken };
}

/**
 * The page after the one just fetched at `position`: the provider's next page token in the same
 * window, else the next window, else the next data type from the start of the range, else null.
 */
export function nextCursor<Type extends string>(
  range: TimeRange,
  position: WalkPosition<Type>,
  types: readonly Type[],
  nextPageToken: string | null,
): SyncCursor | null {
  if (nextPageToken !== null) {
    return { dataType: position.dataType, windowStart: position.start.toISOString(), pageToken: nextPageToken };
  }
  if (position.end < range.until)
    return { dataType: position.dataType, windowStart: position.end.toISOString(), pageToken: null };
  const next = types[types.indexOf(position.dataType) + 1];
  return next === undefined ? null : { dataType: next, windowStart: range.since.toISOString(), pageToken: null };
}

/** A page of items of one type, and where to resume. */
export function page<Type extends string>(
  range: TimeRange,
  position: WalkPosition<Type>,
  types: readonly Type[],
  items: readonly unknown[],
  nextPageToken: string | null,
  fetchedAt: number,
): FetchPage<ProviderRecord> {
  return {
    records: items.map((payload) => ({ type: position.dataType, payload, fetchedAt })),
    next: nextCursor(range, position, types, nextPageToken),
  };
}

/**
 * Maps records through the provider's mappings, merged into one result. `wrap` rebuilds the shape
 * each mapping takes from one item (a list of one, the provider's envelope). A record of a type
 * the driver does not know is rejected, never thrown: the others still map.
 */
export function mapRecords(
  records: readonly unknown[],
  timeZone: string | null,
  mappings: Readonly<Record<string, ProviderMapping>>,
  wrap: (type: string, payload: unknown) => unknown,
): MappedProviderData {
  const merged: MappedProviderData = { observations: [], sleepSessions: [], workouts: [], rejected: [] };
  for (const record of records) {
    const mapping = isRecord(record) ? mappings[record.type] : undefined;
    if (!isRecord(record) || mapping === undefined) {
      merged.rejected.push({ sourceRecordId: null, reason: "record type is not one this driver fetches" });
      continue;
    }
    const batch = mapping(wrap(record.type, record.payload), { fetchedAt: record.fetchedAt, timeZone });
    merged.observations.push(...batch.observations);
    merged.sleepSessions.push(...batch.sleepSessions);
    merged.workouts.push(...batch.workouts);
    merged.rejected.push(...batch.rejected);
  }
  return merged;
}

function windowAt(range: TimeRange, start: Date, maxWindowDays: number | null): { start: Date; end: Date } {
  const limit = maxWindowDays === null ? range.until.getTime() : start.getTime() + maxWindowDays * DAY_MS;
  return { start, end: new Date(Math.min(limit, range.until.getTime())) };
}

function isRecord(value: unknown): value is ProviderRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.type === "string" && typeof record.fetchedAt === "number" && "payload" in record;
}
