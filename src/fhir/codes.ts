import type { Observation as FhirObservation } from "@medplum/fhirtypes";
import type { Observation } from "../../durable-objects/health-store/schema";
import { METRIC_CODES, METRICS, type MetricCategory, type MetricCode, SESSIONS } from "../observations/metrics";
import { LOINC, PULSE_METRIC_SYSTEM, sampleObservation, sleepObservation, workoutObservation } from "./resources";

/**
 * What `code` and `category` search values select: which sample metrics, and whether blood-pressure
 * panels, sleep sessions and workouts. The codes and categories are read off the resources the
 * mapping functions (./resources.ts) emit for a stand-in of each kind, so a search matches exactly
 * what the resources say; a kind whose mapping names no category falls back to the table below.
 */
export interface Selection {
  metrics: Set<MetricCode>;
  bloodPressure: boolean;
  sleep: boolean;
  workouts: boolean;
}

export const BLOOD_PRESSURE_PANEL = "85354-9";
const BP_METRICS: ReadonlySet<MetricCode> = new Set(["blood_pressure_systolic", "blood_pressure_diastolic"]);

/** Used only where a mapping function names no category (observation-category codes). */
const FALLBACK_CATEGORY: Record<MetricCategory, string> = {
  vitals: "vital-signs",
  body: "vital-signs",
  reproductive: "vital-signs",
  glucose: "laboratory",
  activity: "activity",
  sleep: "activity",
  nutrition: "survey",
};

type Kind = { metric: MetricCode } | { session: "sleep" | "workout" } | { panel: true };

interface Terms {
  /** `system|code` of every coding, and `*|code` for matching a code in any system. */
  codes: Set<string>;
  categories: Set<string>;
}

let table: { kind: Kind; terms: Terms }[] | undefined;

export function allSelected(): Selection {
  return { metrics: new Set(METRIC_CODES), bloodPressure: true, sleep: true, workouts: true };
}

export function emptySelection(): Selection {
  return { metrics: new Set(), bloodPressure: false, sleep: false, workouts: false };
}

/**
 * The kinds a `code` parameter's tokens (`system|code`, `|code` or `code`, comma = OR) select.
 * `|code` is read like `code`: every Pulse coding has a system, so the literal FHIR meaning (no
 * system) would match nothing.
 */
export function selectByCodes(tokens: readonly string[]): Selection {
  return select((terms) =>
    tokens.some((token) => {
      const bar = token.indexOf("|");
      if (bar <= 0) return terms.codes.has(`*|${token.slice(bar + 1)}`);
      return terms.codes.has(token);
    }),
  );
}

/** The kinds a `category` parameter's tokens select (system optional, the observation-category one). */
export function selectByCategories(tokens: readonly string[]): Selection {
  const CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category";
  return select((terms) =>
    tokens.some((token) => {
      const bar = token.indexOf("|");
      if (bar > 0 && token.slice(0, bar) !== CATEGORY_SYSTEM) return false;
      return terms.categories.has(token.slice(bar + 1));
    }),
  );
}

export function intersect(a: Selection, b: Selection): Selection {
  return {
    metrics: new Set([...a.metrics].filter((metric) => b.metrics.has(metric))),
    bloodPressure: a.bloodPressure && b.bloodPressure,
    sleep: a.sleep && b.sleep,
    workouts: a.workouts && b.workouts,
  };
}

export function isEmptySelection(selection: Selection): boolean {
  return selection.metrics.size === 0 && !selection.bloodPressure && !selection.sleep && !selection.workouts;
}

/** The sharing categories a selection reads (blood pressure is `vitals`). */
export function sharingCategories(selection: Selection): MetricCategory[] {
  const found = new Set<MetricCategory>([...selection.metrics].map((metric) => METRICS[metric].category));
  if (selection.bloodPressure) found.add(METRICS.blood_pressure_systolic.category);
  if (selection.sleep) found.add(SESSIONS.sleep.category);
  if (selection.workouts) found.add(SESSIONS.workout.category);
  return [...found];
}

/** What a reader limited to `categories` may select. */
export function selectionOfCategories(categories: readonly MetricCategory[]): Selection {
  return {
    metrics: new Set(METRIC_CODES.filter((metric) => categories.includes(METRICS[metric].category))),
    bloodPressure: categories.includes(METRICS.blood_pressure_systolic.category),
    sleep: categories.includes(SESSIONS.sleep.category),
    workouts: categories.includes(SESSIONS.workout.category),
  };
}

function select(matches: (terms: Terms) => boolean): Selection {
  const selection = emptySelection();
  for (const { kind, terms } of kinds()) {
    if (!matches(terms)) continue;
    if ("metric" in kind) selection.metrics.add(kind.metric);
    else if ("panel" in kind) selection.bloodPressure = true;
    else if (kind.session === "sleep") selection.sleep = true;
    else selection.workouts = true;
  }
  return selection;
}

function kinds(): { kind: Kind; terms: Terms }[] {
  table ??= [
    ...METRIC_CODES.map((metric) => ({ kind: { metric }, terms: metricTerms(metric) })),
    { kind: { panel: true } as const, terms: panelTerms() },
    { kind: { session: "sleep" } as const, terms: sessionTerms("sleep") },
    { kind: { session: "workout" } as const, terms: sessionTerms("workout") },
  ];
  return table;
}

const STAND_IN: Observation = {
  id: 1,
  metric: "heart_rate",
  start: 0,
  end: 0,
  value: 0,
  unit: "",
  sourceKind: "upload",
  sourceApp: "stand-in",
  device: null,
  sourceRecordId: "stand-in",
  zoneOffsetSeconds: 0,
  localDate: "1970-01-01",
  flagged: false,
  version: 0,
};
const CONTEXT = { baseUrl: "https://stand-in.invalid/v1/fhir", userId: "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa" };

function metricTerms(metric: MetricCode): Terms {
  const fallback = { codes: [`${PULSE_METRIC_SYSTEM}|${metric}`, ...loinc(METRICS[metric].loinc)], category: fallbackOf(metric) };
  const resource = attempt(() => sampleObservation({ ...STAND_IN, metric, unit: METRICS[metric].unit }, CONTEXT));
  return termsOf(resource, fallback);
}

function panelTerms(): Terms {
  return {
    codes: new Set([`${LOINC}|${BLOOD_PRESSURE_PANEL}`, `*|${BLOOD_PRESSURE_PANEL}`]),
    categories: new Set(["vital-signs"]),
  };
}

function sessionTerms(session: "sleep" | "workout"): Terms {
  const source = { ...STAND_IN, title: null, notes: null, end: 3_600_000 };
  const resource = attempt(() =>
    session === "sleep"
      ? sleepObservation({ ...source, stages: [], totals: { inBedMs: 3_600_000, asleepMs: 3_600_000, byStage: {} } }, CONTEXT)
      : workoutObservation({ ...source, exerciseType: "running" }, CONTEXT),
  );
  const fallback = {
    codes: [`${PULSE_METRIC_SYSTEM}|${session}`, ...loinc(SESSIONS[session].loinc)],
    category: FALLBACK_CATEGORY[SESSIONS[session].category],
  };
  return termsOf(resource, fallback);
}

function termsOf(resource: FhirObservation | undefined, fallback: { codes: string[]; category: string }): Terms {
  const codings = resource?.code?.coding ?? [];
  const pairs = codings.length > 0 ? codings.map((c) => `${c.system ?? ""}|${c.code ?? ""}`) : fallback.codes;
  const categories = (resource?.category ?? []).flatMap((concept) => (concept.coding ?? []).map((c) => c.code ?? ""));
  return {
    codes: new Set([...pairs, ...pairs.map((pair) => `*|${pair.slice(pair.indexOf("|") + 1)}`)]),
    categories: new Set(categories.length > 0 ? categories : [fallback.category]),
  };
}

function fallbackOf(metric: MetricCode): string {
  return BP_METRICS.has(metric) ? "vital-signs" : FALLBACK_CATEGORY[METRICS[metric].category];
}

function loinc(code: string | null): string[] {
  return code === null ? [] : [`${LOINC}|${code}`];
}

/** A mapping function's answer, or undefined while it cannot map a kind yet. */
function attempt<T>(map: () => T): T | undefined {
  try {
    return map();
  } catch {
    return undefined;
  }
}
