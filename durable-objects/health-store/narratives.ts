import { z } from "zod";
import { formatAuditResource } from "../../src/audit/resource";
import { idPattern, newId } from "../../src/db/ids";
import { DomainError } from "../../src/errors/domain-error";
import { buildNarrative } from "../../src/narratives/build";
import { PERIOD_DAYS } from "../../src/narratives/period";
import {
  DOMAIN_CATEGORY,
  NARRATIVE_DOMAINS,
  NARRATIVE_PERIODS,
  type Narrative,
  type NarrativeBody,
  type NarrativeDomain,
} from "../../src/narratives/types";
import { METRIC_CATEGORIES, type MetricCategory } from "../../src/observations/metrics";
import { localDays, readNarrativeData, WEIGHT_LOOKBACK_MS } from "./narrative-data";
import { periodSchema } from "./read-schema";
import { type Zone, zoneSchema } from "./zone";

/**
 * Stored narratives (DESIGN §5): one row per (period, first local date, time zone), computed from
 * the store's data by src/narratives/build.ts and served from here until new data makes it stale.
 *
 * - Ingestion and source deletion mark `stale` every stored narrative whose inputs they touched, in
 *   their own transaction, so a stale narrative is never served: the next read regenerates it (and
 *   keeps its id), and so does the queued refresh job, usually before anyone asks.
 * - A read limited by a grant (categories, a period of data) is computed for that reader and never
 *   stored: sections of domains outside the grant are `withheld`, and nothing outside the period is
 *   read. A grant without a period may be served the stored narrative with the same sections left
 *   out, unless a section it shows also rests on a category it does not cover (`readsAllInputs`).
 * - The refresh job is asked for at most once per burst of ingestion: `refresh_requested_at` in
 *   store_meta says one is pending; after 15 minutes it is asked again, since a lost message must
 *   not stop regeneration for good.
 */
const DAY_MS = 86_400_000;
/** A sample at t is an input of every narrative whose [start - lookback, end + lookahead) holds t. */
const INPUT_LOOKBACK_MS = WEIGHT_LOOKBACK_MS;
/** Recovery heart rate after a workout started late in the period may lie past its end. */
const INPUT_LOOKAHEAD_MS = DAY_MS;
export const REFRESH_REASK_MS = 15 * 60_000;
/** Stale narratives regenerated per job run; any left over regenerate on their next read. */
const MAX_REFRESH = 50;
const META_REFRESH_REQUESTED = "narratives.refresh_requested_at";
const META_LATEST_DATA = "narratives.latest_data_ms";
const META_HOME_ZONE = "narratives.time_zone";

const timeZoneName = z.string().min(1).max(64);
export const narrativeIdSchema = z.string().regex(idPattern("nar"), "not a narrative id");

export const narrativeQuerySchema = z.strictObject({
  period: z.enum(NARRATIVE_PERIODS),
  /** The first local date: the day itself, or the Monday of the week. */
  date: z.iso.date(),
  /** The zone's name as the API echoes it (`Europe/Paris`, `UTC`, `+05:30`); part of the key. */
  timeZone: timeZoneName,
  /** Its offsets over the period and a couple of days either side (the store has no tz database). */
  zone: zoneSchema,
  /** A grantee's categories: sections of other domains are neither read nor returned. */
  categories: z.array(z.enum(METRIC_CATEGORIES)).max(METRIC_CATEGORIES.length).optional(),
  /** A grantee's period of data: nothing outside it is read, baselines included. */
  within: periodSchema.optional(),
});
export type NarrativeQuery = z.input<typeof narrativeQuerySchema>;
export type ParsedNarrativeQuery = z.output<typeof narrativeQuerySchema>;

const narrativeTargetSchema = narrativeQuerySchema.pick({ period: true, date: true, timeZone: true, zone: true });
export const refreshRequestSchema = z.strictObject({
  /** Stored narratives to regenerate if still stale (from `claimRefreshPlan`). */
  ids: z.array(narrativeIdSchema).max(MAX_REFRESH).default([]),
  /** Narratives to generate if not stored, or stored and stale. */
  generate: z.array(narrativeTargetSchema).max(8).default([]),
});
export type RefreshRequest = z.input<typeof refreshRequestSchema>;
export type ParsedRefreshRequest = z.output<typeof refreshRequestSchema>;
export type NarrativeTarget = z.output<typeof narrativeTargetSchema>;

/** What a narrative read answers: the narrative, the offsets to write its instants with, and what the grant withheld. */
export interface NarrativeResult {
  /** `id` is null for a narrative computed for one grantee's reading and not stored. */
  narrative: Omit<Narrative, "id"> & { id: string | null };
  zone: Zone;
  withheld: NarrativeDomain[];
}

/** What the refresh job is to do: stale stored narratives, and where the newest data lies. */
export interface RefreshPlan {
  /** The zone of the person's last own narrative read (UTC if none). */
  timeZone: string;
  /** The latest start of any data ingested, epoch ms; null when nothing was ever stored. */
  latestDataMs: number | null;
  stale: string[];
}

type Row = {
  id: string;
  period: string;
  date: string;
  time_zone: string;
  zone: string;
  start_ms: number;
  end_ms: number;
  body: string;
  generated_at: number;
  stale: number;
};

const COLUMNS = "id, period, date, time_zone, zone, start_ms, end_ms, body, generated_at, stale";

/**
 * A narrative computed before its period ended counted the data expected up to that moment; read
 * more than this long after, it is computed again (a day or week in progress keeps up with the
 * clock even when no new data arrives, e.g. a sensor that stopped).
 */
const IN_PROGRESS_FRESH_MS = 60 * 60_000;

function isFresh(row: Row, now: number): boolean {
  if (row.stale !== 0) return false;
  return row.generated_at >= row.end_ms || now - row.generated_at <= IN_PROGRESS_FRESH_MS;
}

/** The event's `resource`: the period read (cut to a grant's) with its first date, and a grantee's categories. */
export function narrativeResource(query: ParsedNarrativeQuery): string {
  const days = localDays(query.zone, query.date, PERIOD_DAYS[query.period]);
  const start = days[0]?.start ?? 0;
  const end = days.at(-1)?.end ?? start;
  const since = query.within === undefined ? start : Math.max(start, query.within.since);
  const until = query.within === undefined ? end : Math.max(since, Math.min(end, query.within.until));
  return formatAuditResource({ kind: "narrative", date: query.date, since, until, categories: query.categories });
}

export function storedNarrativeResource(row: { date: string; start: number; end: number }): string {
  return formatAuditResource({ kind: "narrative", date: row.date, since: row.start, until: row.end });
}

/** The narrative a query asks for: stored and fresh, or computed now (and stored when it is the full one). */
export function readNarrative(sql: SqlStorage, query: ParsedNarrativeQuery, now: number): NarrativeResult {
  const full = query.categories === undefined && query.within === undefined;
  const row = findByKey(sql, query);
  if (full) {
    if (row !== undefined && isFresh(row, now)) return resultOf(row);
    return resultOf(store(sql, query, computeBody(sql, query, now), now));
  }
  const categories = query.categories ?? METRIC_CATEGORIES;
  if (query.within === undefined && row !== undefined && isFresh(row, now) && readsAllInputs(categories)) {
    return withhold(resultOf(row), categories);
  }
  const body = computeBody(sql, query, now);
  return withhold({ narrative: { ...body, id: null, generatedAt: now }, zone: query.zone, withheld: [] }, categories);
}

/** A stored narrative by id, regenerated first if stale; NOT_FOUND when this store has none such. */
export function narrativeById(sql: SqlStorage, id: string, now: number): NarrativeResult {
  const row = findById(sql, id);
  if (row === undefined) throw new DomainError("NOT_FOUND", "No narrative with this id.");
  if (isFresh(row, now)) return resultOf(row);
  const target = targetOf(row);
  return resultOf(store(sql, target, computeBody(sql, target, now), now));
}

/** Stored narrative bounds by id, for the event of a by-id read; undefined when there is none. */
export function storedBounds(sql: SqlStorage, id: string): { date: string; start: number; end: number } | undefined {
  const row = findById(sql, id);
  return row === undefined ? undefined : { date: row.date, start: row.start_ms, end: row.end_ms };
}

/** The narratives of a refresh request that still need work: missing or stale, ids first. */
export function refreshTargets(sql: SqlStorage, request: ParsedRefreshRequest): NarrativeTarget[] {
  const targets: NarrativeTarget[] = [];
  const seen = new Set<string>();
  const add = (target: NarrativeTarget) => {
    const key = `${target.period}|${target.date}|${target.timeZone}`;
    if (seen.has(key)) return;
    seen.add(key);
    targets.push(target);
  };
  for (const id of request.ids) {
    const row = findById(sql, id);
    if (row?.stale === 1) add(targetOf(row));
  }
  for (const target of request.generate) {
    const row = findByKey(sql, target);
    if (row === undefined || row.stale === 1) add(target);
  }
  return targets;
}

/** Regenerates (or generates) one narrative and stores it; its id is kept when it was stored. */
export function regenerate(sql: SqlStorage, target: NarrativeTarget, now: number): { id: string; generatedAt: number } {
  const row = store(sql, target, computeBody(sql, target, now), now);
  return { id: row.id, generatedAt: row.generated_at };
}

/** Marks stale every stored narrative that data in [since, until) is an input of. */
export function markNarrativesStale(sql: SqlStorage, since: number, until: number): void {
  sql.exec(
    "UPDATE narratives SET stale = 1 WHERE stale = 0 AND start_ms < ? AND end_ms > ?",
    until + INPUT_LOOKBACK_MS,
    since - INPUT_LOOKAHEAD_MS,
  );
}

export function markAllNarrativesStale(sql: SqlStorage): void {
  sql.exec("UPDATE narratives SET stale = 1 WHERE stale = 0");
}

/**
 * After an ingestion that stored data ending at `latestStart`: notes the newest data and answers
 * whether the caller should queue the refresh job (none pending, or the pending one asked for more
 * than 15 minutes ago and presumably lost).
 */
export function requestRefresh(sql: SqlStorage, latestStart: number, now: number): boolean {
  noteLatestData(sql, latestStart);
  return askForRefresh(sql, now);
}

/** Where the newest data lies, for the refresh job; an ingestion that defers its ask notes only this. */
export function noteLatestData(sql: SqlStorage, latestStart: number): void {
  const latest = Number(readMeta(sql, META_LATEST_DATA) ?? Number.NEGATIVE_INFINITY);
  if (!(latest >= latestStart)) writeMeta(sql, META_LATEST_DATA, String(latestStart));
}

/** Whether the caller should queue the refresh job now; if so, it is marked pending. */
export function askForRefresh(sql: SqlStorage, now: number): boolean {
  const requested = Number(readMeta(sql, META_REFRESH_REQUESTED) ?? Number.NaN);
  if (Number.isFinite(requested) && now - requested < REFRESH_REASK_MS) return false;
  writeMeta(sql, META_REFRESH_REQUESTED, String(now));
  return true;
}

/** The refresh job's start: clears the pending request (ingestion from now on asks again) and says what to do. */
export function claimRefreshPlan(sql: SqlStorage): RefreshPlan {
  sql.exec("DELETE FROM store_meta WHERE key = ?", META_REFRESH_REQUESTED);
  const latest = readMeta(sql, META_LATEST_DATA);
  const stale = sql
    .exec<{ id: string }>("SELECT id FROM narratives WHERE stale = 1 ORDER BY start_ms DESC LIMIT ?", MAX_REFRESH)
    .toArray()
    .map((row) => row.id);
  return { timeZone: readMeta(sql, META_HOME_ZONE) ?? "UTC", latestDataMs: latest === undefined ? null : Number(latest), stale };
}

/** The person's own read says which zone they live in; the refresh job generates in it. */
export function rememberTimeZone(sql: SqlStorage, name: string): void {
  if (readMeta(sql, META_HOME_ZONE) !== name) writeMeta(sql, META_HOME_ZONE, name);
}

function computeBody(
  sql: SqlStorage,
  query: NarrativeTarget & Partial<Pick<ParsedNarrativeQuery, "categories" | "within">>,
  now: number,
) {
  return buildNarrative(readNarrativeData(sql, { ...query, days: PERIOD_DAYS[query.period], now }));
}

function findByKey(sql: SqlStorage, key: { period: string; date: string; timeZone: string }): Row | undefined {
  return sql
    .exec<Row>(
      `SELECT ${COLUMNS} FROM narratives WHERE period = ? AND date = ? AND time_zone = ?`,
      key.period,
      key.date,
      key.timeZone,
    )
    .toArray()[0];
}

function findById(sql: SqlStorage, id: string): Row | undefined {
  return sql.exec<Row>(`SELECT ${COLUMNS} FROM narratives WHERE id = ?`, id).toArray()[0];
}

/** Inserts or replaces the narrative of the target's key, keeping the id a stored one had. */
function store(sql: SqlStorage, target: NarrativeTarget, body: NarrativeBody, now: number): Row {
  const [row] = sql
    .exec<Row>(
      `INSERT INTO narratives (id, period, date, time_zone, zone, start_ms, end_ms, body, generated_at, stale)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
       ON CONFLICT (period, date, time_zone) DO UPDATE SET zone = excluded.zone, start_ms = excluded.start_ms,
         end_ms = excluded.end_ms, body = excluded.body, generated_at = excluded.generated_at, stale = 0
       RETURNING ${COLUMNS}`,
      newId("nar"),
      target.period,
      target.date,
      target.timeZone,
      JSON.stringify(target.zone),
      body.start,
      body.end,
      JSON.stringify(body),
      now,
    )
    .toArray();
  if (row === undefined) throw new Error("narrative upsert returned no row");
  return row;
}

function resultOf(row: Row): NarrativeResult {
  const body = JSON.parse(row.body) as NarrativeBody;
  return {
    narrative: { ...body, id: row.id, generatedAt: row.generated_at },
    zone: zoneSchema.parse(JSON.parse(row.zone)),
    withheld: [],
  };
}

function targetOf(row: Row): NarrativeTarget {
  return {
    period: row.period === "week" ? "week" : "day",
    date: row.date,
    timeZone: row.time_zone,
    zone: zoneSchema.parse(JSON.parse(row.zone)),
  };
}

/**
 * Categories a section reads beyond its own: the heart section tells each workout (activity data)
 * with its peak and recovery, and leaves workout time out of "time above 100 bpm".
 */
const EXTRA_INPUTS: Partial<Record<NarrativeDomain, readonly MetricCategory[]>> = { heart: ["activity"] };

/**
 * Whether the full (stored) narrative may be shown to a reader of `categories`, its other sections
 * withheld: only when every section they would see was computed from granted categories alone.
 * Otherwise the reader's narrative is computed from what they may read.
 */
function readsAllInputs(categories: readonly MetricCategory[]): boolean {
  return NARRATIVE_DOMAINS.every(
    (domain) =>
      !categories.includes(DOMAIN_CATEGORY[domain]) || (EXTRA_INPUTS[domain] ?? []).every((extra) => categories.includes(extra)),
  );
}

/** Leaves out the sections (and the no-data mentions) of domains whose category is not granted. */
function withhold(result: NarrativeResult, categories: readonly MetricCategory[]): NarrativeResult {
  const shown = (domain: NarrativeDomain) => categories.includes(DOMAIN_CATEGORY[domain]);
  const { narrative } = result;
  return {
    ...result,
    narrative: {
      ...narrative,
      sections: narrative.sections.filter((section) => shown(section.domain)),
      noData: narrative.noData.filter(shown),
    },
    withheld: NARRATIVE_DOMAINS.filter((domain) => !shown(domain)),
  };
}

function readMeta(sql: SqlStorage, key: string): string | undefined {
  return sql.exec<{ value: string }>("SELECT value FROM store_meta WHERE key = ?", key).toArray()[0]?.value;
}

function writeMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec(
    "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    key,
    value,
  );
}
