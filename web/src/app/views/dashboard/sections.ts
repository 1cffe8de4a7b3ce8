/**
 * The dashboard's parts besides the range picker: the chart of each metric with data, the
 * hypnogram, the day's summary cards, the narrative, and what to do when there is nothing to show.
 */
import { h } from "../../dom.ts";
import { type ChartSpec, chartCard, formatNumber, type Line } from "./charts.ts";
import type { DailySummary, Narrative, Point, SeriesMap, SleepSession } from "./data.ts";
import type { Range, Resolution } from "./range.ts";

/** Glucose target range (mg/dL), the consensus CGM "time in range" band. */
export const GLUCOSE_LOW = 70;
export const GLUCOSE_HIGH = 180;

function timeFormatter(resolution: Resolution, range: Range): (t: number) => string {
  const options: Intl.DateTimeFormatOptions =
    resolution === "day"
      ? { day: "numeric", month: "short", year: "numeric" }
      : resolution === "hour" || range.days > 1
        ? { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }
        : { hour: "2-digit", minute: "2-digit" };
  const format = new Intl.DateTimeFormat(undefined, options);
  return (t) => format.format(t);
}

const TIME_HEADING: Record<Resolution, string> = { raw: "Time", hour: "Hour starting", day: "Day" };
const MEAN_OF: Record<Resolution, string> = { raw: "", hour: ", hourly mean", day: ", daily mean" };

function line(label: string, points: Point[] | undefined, unit: string, color: string, kind?: Line["kind"]): Line[] {
  return points === undefined || points.length === 0 ? [] : [{ label, unit, points, color, ...(kind ? { kind } : {}) }];
}

function percent(part: number, whole: number): string {
  return `${Math.round((part / whole) * 100)} %`;
}

/** Time in range counted from readings (CGM readings are evenly spaced, so readings stand for time). */
export function timeInRange(points: Point[]): string {
  const inRange = points.filter((point) => point.v >= GLUCOSE_LOW && point.v <= GLUCOSE_HIGH).length;
  const below = points.filter((point) => point.v < GLUCOSE_LOW).length;
  const above = points.length - inRange - below;
  return (
    `Time in range (${GLUCOSE_LOW}–${GLUCOSE_HIGH} mg/dL): ${percent(inRange, points.length)} of ` +
    `${points.length.toLocaleString()} readings; ${percent(below, points.length)} below, ${percent(above, points.length)} above.`
  );
}

/** One chart per metric group with data, in a fixed order. */
export function metricCharts(series: SeriesMap, range: Range, signal: AbortSignal): HTMLElement[] {
  const spec = (resolution: Resolution, fields: Omit<ChartSpec, "formatTime" | "timeHeading">): ChartSpec => ({
    ...fields,
    timeHeading: TIME_HEADING[resolution],
    formatTime: timeFormatter(resolution, range),
  });
  const specs: ChartSpec[] = [];
  const resolution = range.resolution;
  const mean = MEAN_OF[resolution];

  const heart = [
    ...line(`Heart rate${mean}`, series.heart_rate?.points, "bpm", "--chart-1"),
    ...line("Resting heart rate", series.resting_heart_rate?.points, "bpm", "--chart-2", "points"),
  ];
  if (heart.length > 0)
    specs.push(spec(resolution, { id: "heart_rate", title: "Heart rate", axis: "bpm", lines: heart, digits: 1 }));

  const glucose = series.blood_glucose;
  if (glucose !== undefined && glucose.points.length > 0) {
    const glucoseMean = MEAN_OF[glucose.resolution];
    specs.push(
      spec(glucose.resolution, {
        id: "blood_glucose",
        title: "Glucose",
        axis: "mg/dL",
        lines: line(`Glucose${glucoseMean}`, glucose.points, "mg/dL", "--chart-1"),
        band: { low: GLUCOSE_LOW, high: GLUCOSE_HIGH, color: "--chart-band" },
        notes: [
          `The shaded band is the ${GLUCOSE_LOW}–${GLUCOSE_HIGH} mg/dL target range.`,
          glucose.resolution === "raw"
            ? timeInRange(glucose.points)
            : "Time in range is counted from readings: choose a period of 31 days or less to see it.",
        ],
        digits: 0,
      }),
    );
  }

  const steps = series.steps;
  if (steps !== undefined && steps.points.length > 0) {
    const per = steps.resolution === "day" ? "day" : "hour";
    specs.push(
      spec(steps.resolution, {
        id: "steps",
        title: "Steps",
        axis: `steps per ${per}`,
        lines: line(`Steps per ${per}`, steps.points, "steps", "--chart-1", "bars"),
        notes: [
          `${formatNumber(
            steps.points.reduce((sum, point) => sum + point.v, 0),
            0,
          )} steps in this period.`,
        ],
        digits: 0,
      }),
    );
  }

  const hrv = [
    ...line(`HRV, RMSSD${mean}`, series.hrv_rmssd?.points, "ms", "--chart-1"),
    ...line(`HRV, SDNN${mean}`, series.hrv_sdnn?.points, "ms", "--chart-2"),
  ];
  if (hrv.length > 0) specs.push(spec(resolution, { id: "hrv", title: "Heart rate variability", axis: "ms", lines: hrv }));

  const weight = line(`Weight${mean}`, series.weight?.points, "kg", "--chart-1");
  if (weight.length > 0) specs.push(spec(resolution, { id: "weight", title: "Weight", axis: "kg", lines: weight }));

  const pressure = [
    ...line(`Systolic${mean}`, series.blood_pressure_systolic?.points, "mmHg", "--chart-1"),
    ...line(`Diastolic${mean}`, series.blood_pressure_diastolic?.points, "mmHg", "--chart-2"),
  ];
  if (pressure.length > 0)
    specs.push(spec(resolution, { id: "blood_pressure", title: "Blood pressure", axis: "mmHg", lines: pressure, digits: 0 }));

  const oxygen = line(`SpO2${mean}`, series.oxygen_saturation?.points, "%", "--chart-1");
  if (oxygen.length > 0)
    specs.push(spec(resolution, { id: "oxygen_saturation", title: "Blood oxygen (SpO2)", axis: "%", lines: oxygen }));

  const flagged = Object.values(series).reduce((sum, one) => sum + (one?.flagged ?? 0), 0);
  if (flagged > 0 && specs[0] !== undefined) {
    specs[0].notes = [...(specs[0].notes ?? []), `${flagged} implausible readings are kept but not plotted.`];
  }
  return specs.map((one) => chartCard(one, signal));
}

/** Hypnogram levels, awake at the top as sleep charts draw them. */
const STAGE_LEVEL: Record<string, number> = {
  awake: 4,
  awake_in_bed: 4,
  out_of_bed: 4,
  rem: 3,
  light: 2,
  sleeping: 2,
  deep: 1,
};
const LEVELS = [
  { value: 4, name: "Awake" },
  { value: 3, name: "REM" },
  { value: 2, name: "Light" },
  { value: 1, name: "Deep" },
];

function hours(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** The stages over time (a hypnogram), one step per stage, a gap between nights. */
export function sleepChart(sessions: SleepSession[], range: Range, signal: AbortSignal): HTMLElement | null {
  const points: Point[] = [];
  for (const session of sessions) {
    let last: Point | undefined;
    for (const stage of session.stages) {
      const level = STAGE_LEVEL[stage.stage];
      if (level === undefined) continue;
      last = { t: Date.parse(stage.end), v: level };
      points.push({ t: Date.parse(stage.start), v: level });
    }
    if (last !== undefined) points.push(last, { t: last.t + 1000, v: Number.NaN });
  }
  if (sessions.length === 0) return null;
  const nights = sessions.map((session) => {
    const stages = Object.entries(session.totals.stages)
      .filter(([, seconds]) => seconds > 0)
      .map(([stage, seconds]) => `${stage === "rem" ? "REM" : stage.replaceAll("_", " ")} ${hours(seconds)}`);
    const when = new Date(session.start).toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
    return `Night of ${when}: asleep ${hours(session.totals.asleepSeconds)} of ${hours(session.totals.inBedSeconds)} in bed${stages.length > 0 ? ` (${stages.join(", ")})` : ""}.`;
  });
  const spec: ChartSpec = {
    id: "sleep",
    title: "Sleep stages",
    axis: "hypnogram",
    lines: [{ label: "Sleep stage", unit: "", points, color: "--chart-1" }],
    levels: LEVELS,
    stepped: true,
    notes: nights.slice(-7),
    timeHeading: "Stage from",
    formatTime: timeFormatter("raw", { ...range, days: 2 }),
  };
  if (points.length === 0) {
    return h("section", { class: "card" }, h("h2", {}, "Sleep"), ...nights.map((night) => h("p", {}, night)));
  }
  return chartCard(spec, signal);
}

function fact(label: string, value: string | null, detail?: string): HTMLElement | null {
  if (value === null) return null;
  return h(
    "div",
    { class: "stat" },
    h("dt", {}, label),
    h("dd", {}, value, detail ? h("span", { class: "hint" }, detail) : null),
  );
}

/** The cards of one day's summary; null items (no data) are left out. */
export function summaryCards(summary: DailySummary): HTMLElement {
  const when = new Date(`${summary.date}T12:00:00Z`).toLocaleDateString(undefined, {
    weekday: "long",
    day: "numeric",
    month: "long",
    timeZone: "UTC",
  });
  const facts = [
    fact("Steps", summary.steps === null ? null : formatNumber(summary.steps, 0)),
    fact("Resting heart rate", summary.restingHeartRate === null ? null : `${formatNumber(summary.restingHeartRate, 0)} bpm`),
    fact(
      "Heart rate",
      summary.heartRate === null ? null : `${formatNumber(summary.heartRate.avg, 0)} bpm`,
      summary.heartRate === null
        ? undefined
        : `(${formatNumber(summary.heartRate.min, 0)}–${formatNumber(summary.heartRate.max, 0)})`,
    ),
    fact("HRV (RMSSD)", summary.hrvRmssd === null ? null : `${formatNumber(summary.hrvRmssd, 0)} ms`),
    fact(
      "Glucose in range",
      summary.glucose === null ? null : `${formatNumber(summary.glucose.timeInRangePercent, 0)} %`,
      summary.glucose === null ? undefined : `(mean ${formatNumber(summary.glucose.avg, 0)} mg/dL)`,
    ),
    fact("Sleep", summary.sleep.sessions === 0 ? null : hours(summary.sleep.asleepSeconds)),
    fact("Active energy", summary.activeEnergy === null ? null : `${formatNumber(summary.activeEnergy, 0)} kcal`),
    fact(
      "Workouts",
      summary.workouts.count === 0 ? null : `${summary.workouts.count}`,
      `(${hours(summary.workouts.durationSeconds)})`,
    ),
  ].filter((item): item is HTMLElement => item !== null);
  return h(
    "section",
    { class: "card", "aria-labelledby": "summary-heading" },
    h("h2", { id: "summary-heading" }, `Summary of ${when}`),
    facts.length > 0 ? h("dl", { class: "stats" }, ...facts) : h("p", { class: "hint" }, "Nothing recorded on this day."),
  );
}

export function narrativeCard(narrative: Narrative): HTMLElement | null {
  if (narrative.sections.length === 0) return null;
  const day = (date: string, options: Intl.DateTimeFormatOptions) =>
    new Date(`${date}T12:00:00Z`).toLocaleDateString(undefined, { ...options, timeZone: "UTC" });
  const period =
    narrative.period === "day"
      ? day(narrative.date, { weekday: "long", day: "numeric", month: "long" })
      : `the week of ${day(narrative.date, { day: "numeric", month: "short" })} to ${day(narrative.endDate, { day: "numeric", month: "short", year: "numeric" })}`;
  return h(
    "section",
    { class: "card narrative", "aria-labelledby": "narrative-heading" },
    h("h2", { id: "narrative-heading" }, `In words: ${period}`),
    ...narrative.sections.map((section) =>
      h("div", {}, h("h3", {}, section.title), ...section.sentences.map((text) => h("p", {}, text))),
    ),
  );
}

/** Nothing in the period: with data elsewhere, a way to it; with none at all, how to get some in. */
export function emptyState(latestDate: string | null, range: Range): HTMLElement {
  if (latestDate !== null) {
    const params = new URLSearchParams({ range: range.kind === "custom" ? "month" : range.kind, end: latestDate });
    return h(
      "section",
      { class: "card empty" },
      h("h2", {}, "Nothing recorded in this period"),
      h(
        "p",
        {},
        "Choose an earlier or longer period, or ",
        h("a", { href: `#/dashboard?${params}` }, `go to your latest data (${latestDate})`),
        ".",
      ),
    );
  }
  return h(
    "section",
    { class: "card empty" },
    h("h2", {}, "No health data yet"),
    h("p", {}, "Your charts appear here as soon as Pulse has data. To get some in:"),
    h(
      "ul",
      {},
      h("li", {}, h("a", { href: "#/upload" }, "Upload a Health Connect export"), " from your phone (Avro files)."),
      h("li", {}, h("a", { href: "#/connections" }, "Connect a provider"), " such as Oura, and Pulse keeps your data in sync."),
      h(
        "li",
        {},
        "Trying Pulse locally? ",
        h("code", {}, "npm run -s dev:demo-data"),
        " writes two weeks of demo exports; upload them with ",
        h("code", {}, "npm run upload"),
        ".",
      ),
    ),
  );
}
