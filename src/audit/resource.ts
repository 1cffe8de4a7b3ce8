import { isMetricCode, METRIC_CATEGORIES, METRICS, type MetricCategory } from "../observations/metrics";

/**
 * What an audit event says was touched: the `resource` field, ≤ 200 characters because it is part
 * of every event's hash input (src/audit/chain.ts) and the chain's format is frozen. The grammar:
 *
 *   resource = kind *( ";" key "=" value )
 *   kind     = [a-z][a-z_]*             observations, latest, sleep, workouts, summary, ai, source, audit, …
 *   m=a,b    metric codes read or written (sessions count as the codes `sleep` and `workout`)
 *   c=a,b    their categories, written instead of `m` when the metrics do not fit
 *   p=S/U    the period [S, U) as ISO 8601 instants, `..` for an open end (ISO 8601-2 interval)
 *   d=DATE   a calendar date (a daily summary)
 *   id=X     one item, percent-encoded; `t=1` when it had to be shortened to fit
 *
 * e.g. `observations;m=heart_rate,hrv_rmssd;p=2026-11-01T00:00:00.000Z/2026-11-08T00:00:00.000Z`.
 *
 * Chains already hold events written before this grammar (`observations:heart_rate,steps`,
 * `ai:vitals:heart_rate`, `summary:2026-01-15`, `source:upload:app`, `observations,sleep,workouts`,
 * `user:usr_…`); `parseAuditResource` reads those too, so a log spanning both reads as one. The two
 * never collide: an older form has a `:` or `,` before any `;`, a new one never does.
 */
export const MAX_RESOURCE_LENGTH = 200;

export interface AuditResourceInput {
  kind: string;
  metrics?: readonly string[] | undefined;
  categories?: readonly string[] | undefined;
  /** Epoch milliseconds, the inclusive start of what was read; undefined for an open start. */
  since?: number | undefined;
  /** Epoch milliseconds, the exclusive end; undefined for an open end. */
  until?: number | undefined;
  date?: string | undefined;
  id?: string | undefined;
}

export interface AuditResource {
  kind: string;
  /** The metric codes named, in the order recorded; empty when the event named none. */
  metrics: string[];
  /** Categories recorded, or those of the metrics named (registry order); empty when unknown. */
  categories: string[];
  /** The period read, ISO instants, `null` for an open end; `null` when the event names none. */
  period: { since: string | null; until: string | null } | null;
  date: string | null;
  id: string | null;
  /** The id was shortened to fit. */
  truncated: boolean;
}

const KIND = /^[a-z][a-z_]*$/;
/** A `sleep` or `workout` entry in a metric list is a session, counted in these categories. */
const SESSION_CATEGORIES: Record<string, MetricCategory> = { sleep: "sleep", workout: "activity", workouts: "activity" };

export function formatAuditResource(input: AuditResourceInput): string {
  if (!KIND.test(input.kind)) throw new Error(`audit resource kind must match ${KIND}`);
  const fixed: string[] = [input.kind];
  if (input.date !== undefined) fixed.push(`d=${input.date}`);
  if (input.since !== undefined || input.until !== undefined) fixed.push(`p=${instant(input.since)}/${instant(input.until)}`);
  const base = fixed.join(";");

  const metrics = unique(input.metrics ?? []);
  const categories = unique(input.categories ?? categoriesOf(metrics));
  const named: string[] = [];
  if (metrics.length > 0 && fits(base, `m=${metrics.join(",")}`)) named.push(`m=${metrics.join(",")}`);
  else if (categories.length > 0) named.push(`c=${categories.join(",")}`);
  let text = [base, ...named].join(";");

  if (input.id !== undefined) {
    const encoded = encodeURIComponent(input.id);
    if (fits(text, `id=${encoded}`)) text += `;id=${encoded}`;
    else text += `;t=1;id=${shorten(encoded, MAX_RESOURCE_LENGTH - text.length - ";t=1;id=".length)}`;
  }
  return text;
}

export function parseAuditResource(text: string): AuditResource {
  const parsed = emptyResource(text);
  const head = text.split(";", 1)[0] ?? "";
  if (KIND.test(head)) return parseCurrent(text, parsed);
  return parseOlder(text, parsed);
}

/** The categories of metric codes the registry knows (and of sessions), sorted, without repeats. */
export function categoriesOf(metrics: readonly string[]): MetricCategory[] {
  const found = new Set<MetricCategory>();
  for (const code of metrics) {
    const session = SESSION_CATEGORIES[code];
    if (session !== undefined) found.add(session);
    else if (isMetricCode(code)) found.add(METRICS[code].category);
  }
  return METRIC_CATEGORIES.filter((category) => found.has(category));
}

function parseCurrent(text: string, parsed: AuditResource): AuditResource {
  const [kind = "", ...fields] = text.split(";");
  parsed.kind = kind;
  for (const field of fields) {
    const split = field.indexOf("=");
    if (split < 1) continue;
    const key = field.slice(0, split);
    const value = field.slice(split + 1);
    if (key === "m") parsed.metrics = list(value);
    else if (key === "c") parsed.categories = list(value);
    else if (key === "d") parsed.date = value;
    else if (key === "t") parsed.truncated = value === "1";
    else if (key === "id") parsed.id = decode(value);
    else if (key === "p") parsed.period = period(value);
  }
  if (parsed.categories.length === 0) parsed.categories = categoriesOf(parsed.metrics);
  return parsed;
}

function parseOlder(text: string, parsed: AuditResource): AuditResource {
  // `observations,sleep,workouts`: what an ingestion batch wrote, by kind of data only.
  const kinds = text.split(",");
  if (kinds.length > 1 && kinds.every((kind) => ["observations", "sleep", "workouts"].includes(kind))) {
    parsed.kind = "observations";
    parsed.categories = categoriesOf(kinds);
    return parsed;
  }
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? "" : text.slice(colon + 1);
  parsed.kind = kind;
  if (kind === "observations") {
    parsed.metrics = list(rest);
  } else if (kind === "ai") {
    // `ai:<categories>:<metrics>`; metrics may include `sleep`.
    const split = rest.indexOf(":");
    parsed.categories = list(split < 0 ? rest : rest.slice(0, split));
    parsed.metrics = split < 0 ? [] : list(rest.slice(split + 1));
  } else if (kind === "summary") {
    parsed.date = rest || null;
  } else if (rest !== "") {
    parsed.id = rest;
  }
  // Older events were cut at 200 characters without a mark; a last list item may be partial.
  parsed.truncated = text.length >= MAX_RESOURCE_LENGTH;
  if (parsed.categories.length === 0) parsed.categories = categoriesOf(parsed.metrics);
  return parsed;
}

function emptyResource(text: string): AuditResource {
  return { kind: text, metrics: [], categories: [], period: null, date: null, id: null, truncated: false };
}

function instant(ms: number | undefined): string {
  return ms === undefined ? ".." : new Date(ms).toISOString();
}

function period(value: string): AuditResource["period"] {
  const [since = "..", until = ".."] = value.split("/");
  const end = (part: string) => (part === ".." || Number.isNaN(Date.parse(part)) ? null : part);
  return { since: end(since), until: end(until) };
}

function fits(base: string, field: string): boolean {
  return base.length + 1 + field.length <= MAX_RESOURCE_LENGTH;
}

/** Cuts percent-encoded text without splitting an escape. */
function shorten(encoded: string, length: number): string {
  let cut = encoded.slice(0, Math.max(0, length));
  const percent = cut.lastIndexOf("%");
  if (percent >= 0 && percent > cut.length - 3) cut = cut.slice(0, percent);
  return cut;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function list(value: string): string[] {
  return value.split(",").filter((item) => item.length > 0);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
