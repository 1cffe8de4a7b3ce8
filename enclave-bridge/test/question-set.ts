import type {
  AnalystAnswer,
  AnalystData,
  AnalystInput,
  SeriesPoint,
  SleepSessionData,
  SummaryData,
} from "../src/analyst/index.ts";
import { summaryTarget } from "../src/analyst/index.ts";

/**
 * The analyst's question set: natural phrasings (varied wording, units, periods, weekdays,
 * summaries, typos, time zones) over fixed data, each with what a correct answer must say. Every
 * expected figure is computed here from the raw data with plain loops and hand-written windows,
 * not with the analyst's helpers. A question is either answered with its figures, answered "no
 * data" where there is none, or declined — never answered with another question's figures.
 *
 * Shared by the test (enclave-bridge/test/analyst-questions.test.ts, run by `npm run test:bridge`)
 * and the bench (bench/analyst.mjs), which prints the shares and the latency per question.
 */
export const NOW = "2024-05-15T12:00:00.000Z"; // a Wednesday
const NOW_MS = Date.parse(NOW);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (day: number, hour: number, minute = 0) => Date.UTC(2024, 4, day, hour, minute);
const iso = (ms: number) => new Date(ms).toISOString();
const point = (ms: number, value: number): SeriesPoint => ({ start: iso(ms), end: iso(ms), value });

// Heart rate: 06:00 and 18:00 UTC on 1–14 May, and 06:00 on 15 May.
const HEART: { at: number; value: number }[] = [];
for (let day = 1; day <= 15; day++) {
  HEART.push({ at: at(day, 6), value: 55 + day });
  if (day < 15) HEART.push({ at: at(day, 18), value: 75 + 2 * day });
}
// Steps: one reading at noon UTC on 1–14 May.
const STEP_VALUES = [8000, 12000, 4500, 10000, 15000, 3000, 9500, 11000, 7000, 13000, 6000, 10001, 9999, 12500];
const STEPS = STEP_VALUES.map((value, index) => ({ at: at(index + 1, 12), value }));
// Glucose: every 6 h from 1 May 00:00 to 15 May 06:00 UTC, a 7-value cycle that does not align with days.
const GLUCOSE_CYCLE = [95, 140, 65, 190, 110, 72, 150];
const GLUCOSE: { at: number; value: number }[] = [];
for (let ms = at(1, 0), index = 0; ms <= at(15, 6); ms += 6 * HOUR, index++) {
  GLUCOSE.push({ at: ms, value: GLUCOSE_CYCLE[index % GLUCOSE_CYCLE.length] ?? 0 });
}
// Sleep: a night from 22:30 UTC on each of 1–14 May: light, deep, REM, then 15 min awake.
interface Night {
  start: number;
  end: number;
  light: number;
  deep: number;
  rem: number;
}
const NIGHTS: Night[] = [];
for (let day = 1; day <= 14; day++) {
  const light = 200 + (day % 3) * 10;
  const deep = 60 + 2 * day;
  const rem = 80 + day;
  const start = at(day, 22, 30);
  NIGHTS.push({ start, end: start + (light + deep + rem + 15) * 60_000, light, deep, rem });
}
const SLEEP: SleepSessionData[] = NIGHTS.map((night) => {
  const deepAt = night.start + night.light * 60_000;
  const remAt = deepAt + night.deep * 60_000;
  const awakeAt = remAt + night.rem * 60_000;
  return {
    start: iso(night.start),
    end: iso(night.end),
    stages: [
      { stage: "light", start: iso(night.start), end: iso(deepAt) },
      { stage: "deep", start: iso(deepAt), end: iso(remAt) },
      { stage: "rem", start: iso(remAt), end: iso(awakeAt) },
      { stage: "awake", start: iso(awakeAt), end: iso(night.end) },
    ],
  };
});

export const DATA: AnalystData = {
  metrics: {
    heart_rate: { unit: "bpm", points: HEART.map((r) => point(r.at, r.value)) },
    steps: { unit: "count", points: STEPS.map((r) => point(r.at, r.value)) },
    blood_glucose: { unit: "mg/dL", points: GLUCOSE.map((r) => point(r.at, r.value)) },
  },
  sleep: SLEEP,
};

// --- Independent expectations: windows, sums and formatting written out here ---------------------

type Window = { since: number; until: number };
const lastDays = (days: number): Window => ({ since: NOW_MS - days * DAY, until: NOW_MS });
/** A UTC calendar day of May shifted by a fixed offset in hours (local midnight = UTC midnight - offset). */
const localDay = (day: number, offsetHours = 0): Window => ({
  since: at(day, 0) - offsetHours * HOUR,
  until: at(day + 1, 0) - offsetHours * HOUR,
});
const TODAY = { since: at(15, 0), until: NOW_MS };
const YESTERDAY = localDay(14);
const within = <T extends { at: number }>(rows: T[], w: Window) => rows.filter((r) => r.at >= w.since && r.at < w.until);
const values = (rows: { value: number }[]) => rows.map((r) => r.value);
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const grouped = (x: number) => Math.round(x).toLocaleString("en-US");
const oneDecimal = (x: number) => (Math.round(x * 10) / 10).toFixed(1);
const hm = (minutes: number) => {
  const m = Math.round(minutes);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
};
const count = (rows: { value: number }[], test: (v: number) => boolean) => rows.filter((r) => test(r.value)).length;
const percent = (part: number, whole: number) => (Math.round((part / whole) * 1000) / 10).toFixed(1);
const nightsStarting = (w: Window) => NIGHTS.filter((n) => n.start >= w.since && n.start < w.until);
/** The night ending today (UTC) that began before noon: the one of 14–15 May. */
const lastNight = NIGHTS.filter((n) => n.end >= at(15, 0) && n.end <= NOW_MS && n.start < at(15, 12))[0];
if (lastNight === undefined) throw new Error("fixture has no last night");

const week = lastDays(7);
const month = lastDays(30);
const weekBefore = { since: NOW_MS - 14 * DAY, until: NOW_MS - 7 * DAY };
const glucoseWeek = within(GLUCOSE, week);
const glucoseMonth = within(GLUCOSE, month);
const stepsWeek = within(STEPS, week);
const heartYesterday = values(within(HEART, YESTERDAY));
const weekNights = nightsStarting(week);

// --- Narratives: what the Worker reads from the person's HealthStore for a summary ----------------

/** A narrative section whose sentences state its figures, as src/narratives writes them. */
function section(domain: string, title: string, figures: { code: string; label: string; value: number | null; unit: string }[]) {
  const stated = figures.filter((figure) => figure.value !== null);
  return {
    domain,
    title,
    sentences: stated.map((figure) => `${figure.label}: ${figure.value} ${figure.unit}.`),
    figures,
  };
}

function narrative(period: "day" | "week", first: number, window: Window, sections: ReturnType<typeof section>[]): SummaryData {
  const days = period === "day" ? 1 : 7;
  const domains = ["glucose", "heart", "blood_pressure", "sleep", "activity", "body"];
  const glucose = within(GLUCOSE, window);
  const heart = within(HEART, window);
  const steps = within(STEPS, window);
  const nights = NIGHTS.filter((n) => n.end >= window.since && n.end < window.until);
  const all = [
    ...(glucose.length === 0
      ? []
      : [
          section("glucose", "Glucose", [
            { code: "mean_glucose", label: "Mean glucose", value: Math.round(avg(values(glucose))), unit: "mg/dL" },
            {
              code: "readings_below_70",
              label: "Readings below 70 mg/dL",
              value: count(glucose, (v) => v < 70),
              unit: "readings",
            },
            { code: "gmi", label: "GMI", value: null, unit: "%" },
          ]),
        ]),
    ...(heart.length === 0
      ? []
      : [
          section("heart", "Heart", [
            { code: "max_heart_rate", label: "Highest heart rate", value: Math.max(...values(heart)), unit: "bpm" },
            { code: "min_heart_rate", label: "Lowest heart rate", value: Math.min(...values(heart)), unit: "bpm" },
          ]),
        ]),
    ...(nights.length === 0
      ? []
      : [
          section("sleep", "Sleep", [
            { code: "nights", label: "Nights recorded", value: nights.length, unit: "nights" },
            {
              code: "time_asleep",
              label: "Time asleep per night",
              value: Math.round(avg(nights.map((n) => n.light + n.deep + n.rem))),
              unit: "min",
            },
          ]),
        ]),
    ...(steps.length === 0
      ? []
      : [section("activity", "Activity", [{ code: "steps", label: "Steps", value: total(values(steps)), unit: "steps" }])]),
  ];
  const kept = all.filter((entry) => sections.length === 0 || sections.some((s) => s.domain === entry.domain));
  return {
    period,
    date: new Date(at(first, 0)).toISOString().slice(0, 10),
    endDate: new Date(at(first + days - 1, 0)).toISOString().slice(0, 10),
    timeZone: "UTC",
    sections: kept,
    noData: domains.filter((domain) => !kept.some((entry) => entry.domain === domain)),
  };
}

/** The narratives stored for the fixture's person (UTC), keyed `period:date`. */
export const NARRATIVES: Record<string, SummaryData> = Object.fromEntries(
  [
    narrative("week", 13, { since: at(13, 0), until: at(20, 0) }, []),
    narrative("week", 6, { since: at(6, 0), until: at(13, 0) }, []),
    narrative("day", 15, localDay(15), []),
    narrative("day", 14, localDay(14), []),
    narrative("day", 13, localDay(13), []),
    // A day before any data: a narrative with no sections.
    { period: "day", date: "2024-04-28", endDate: "2024-04-28", timeZone: "UTC", sections: [], noData: ["glucose"] },
  ].map((entry) => [`${entry.period}:${entry.date}`, entry as SummaryData]),
);

const narrativeOf = (key: string): SummaryData => {
  const found = NARRATIVES[key];
  if (found === undefined) throw new Error(`no narrative ${key}`);
  return found;
};

/** What a summary must say: the narrative's sentences, and its stated figures as the answer's figures. */
function summaryOf(key: string, opening: string, domains?: string[]): Summary {
  const sections = narrativeOf(key).sections.filter((s) => domains === undefined || domains.includes(s.domain));
  return {
    opening,
    sentences: sections.flatMap((s) => s.sentences),
    figures: sections.flatMap((s) =>
      s.figures
        .filter((f) => f.value !== null)
        .map((f) => ({ label: `${s.title}: ${f.label}`, value: f.value as number, unit: f.unit })),
    ),
  };
}

// --- The cases ------------------------------------------------------------------------------------

interface Summary {
  opening: string;
  sentences: string[];
  figures: { label: string; value: number; unit: string }[];
}

export type QuestionCase = { question: string; tz?: string } & (
  | { expect: string[] }
  | { summary: Summary }
  /** In scope, but there is no data: the answer says so (matching `noData`) and gives no figure. */
  | { noData: RegExp }
  | { decline: RegExp }
);

export const DECLINE = /^(?:I can't|I can answer|I can count|I can only|I can compare|I can summarize|Tell me)/;

export const CASES: QuestionCase[] = [
  // Averages, extremes, ranges, totals.
  { question: "What was my average heart rate last week?", expect: [`${oneDecimal(avg(values(within(HEART, week))))} bpm`] },
  { question: "avg hr past 7 days", expect: [`${oneDecimal(avg(values(within(HEART, week))))} bpm`] },
  { question: "whats my mean pulse this week", expect: [`${oneDecimal(avg(values(within(HEART, week))))} bpm`] },
  {
    question: "What was my averge heart rate in the last 3 days?",
    expect: [`${oneDecimal(avg(values(within(HEART, lastDays(3)))))} bpm`],
  },
  { question: "avrage heart rate last week", expect: [`${oneDecimal(avg(values(within(HEART, week))))} bpm`] },
  { question: "What was my HR over the past 3 days", expect: [`${oneDecimal(avg(values(within(HEART, lastDays(3)))))} bpm`] },
  { question: "highest heart rate this month", expect: [`${oneDecimal(Math.max(...values(within(HEART, month))))} bpm`] },
  { question: "lowest pulse last 7 days", expect: [`${oneDecimal(Math.min(...values(within(HEART, week))))} bpm`] },
  { question: "What's my peak heart rate yesterday", expect: [`${oneDecimal(Math.max(...heartYesterday))} bpm`] },
  {
    question: "heart rate range last week",
    expect: [
      `${oneDecimal(Math.min(...values(within(HEART, week))))} bpm`,
      `${oneDecimal(Math.max(...values(within(HEART, week))))} bpm`,
    ],
  },
  { question: "How many steps did I take this week?", expect: [`${grouped(total(values(stepsWeek)))} steps`] },
  { question: "total steps last 3 days", expect: [`${grouped(total(values(within(STEPS, lastDays(3)))))} steps`] },
  { question: "steps yesterday", expect: [`${grouped(total(values(within(STEPS, YESTERDAY))))} steps`] },
  { question: "how many stpes yesterday", expect: [`${grouped(total(values(within(STEPS, YESTERDAY))))} steps`] },
  { question: "my stepps yesterday", expect: [`${grouped(total(values(within(STEPS, YESTERDAY))))} steps`] },
  { question: "steps in the last 14 days", expect: [`${grouped(total(values(within(STEPS, lastDays(14)))))} steps`] },
  {
    question: "What is my step count for the past fortnight?",
    expect: [`${grouped(total(values(within(STEPS, lastDays(14)))))} steps`, "in the last 14 days"],
  },
  { question: "avg heart rate last wk", expect: [`${oneDecimal(avg(values(within(HEART, week))))} bpm`, "in the last 7 days"] },
  { question: "average daily steps last week", expect: [`${grouped(avg(values(stepsWeek)))} steps`] },
  { question: "Most steps in a day this month", expect: [`${grouped(Math.max(...values(within(STEPS, month))))} steps`] },
  { question: "average blood sugar yesterday", expect: [`${grouped(avg(values(within(GLUCOSE, YESTERDAY))))} mg/dL`] },
  { question: "glucose today", expect: [`${grouped(avg(values(within(GLUCOSE, TODAY))))} mg/dL`] },
  { question: "glucoce today?", expect: [`${grouped(avg(values(within(GLUCOSE, TODAY))))} mg/dL`] },
  { question: "mean glucose last 2 weeks", expect: [`${grouped(avg(values(within(GLUCOSE, lastDays(14)))))} mg/dL`] },
  {
    question: "lowest glucose in the past 10 days",
    expect: [`${grouped(Math.min(...values(within(GLUCOSE, lastDays(10)))))} mg/dL`],
  },
  // Time in range.
  {
    question: "time in range glucose last 7 days",
    expect: [
      `${percent(
        count(glucoseWeek, (v) => v >= 70 && v <= 180),
        glucoseWeek.length,
      )}%`,
      "70–180",
    ],
  },
  {
    question: "glucose time in range this month",
    expect: [
      `${percent(
        count(glucoseMonth, (v) => v >= 70 && v <= 180),
        glucoseMonth.length,
      )}%`,
    ],
  },
  {
    question: "what percent of time was my glucose between 70 and 140 last week",
    expect: [
      `${percent(
        count(glucoseWeek, (v) => v >= 70 && v <= 140),
        glucoseWeek.length,
      )}%`,
      "70–140",
    ],
  },
  {
    question: "my glucose time in range 70-180 mg/dl last week",
    expect: [
      `${percent(
        count(glucoseWeek, (v) => v >= 70 && v <= 180),
        glucoseWeek.length,
      )}%`,
    ],
  },
  // Ever below / above, how many times, how often; units as people write them.
  {
    question: "Was my glucose ever below 70 this month?",
    expect: [`${count(glucoseMonth, (v) => v < 70)} of your ${glucoseMonth.length}`, "below 70 mg/dL"],
  },
  {
    question: "was my glucose ever below 70 mg/dl this month",
    expect: [`${count(glucoseMonth, (v) => v < 70)} of your ${glucoseMonth.length}`, "below 70 mg/dL"],
  },
  {
    question: "how many times was my blood sugar over 180 in the past 7 days",
    expect: [`${count(glucoseWeek, (v) => v > 180)} of your ${glucoseWeek.length}`, "above 180 mg/dL"],
  },
  {
    question: "Did my glucose go above 250 this week?",
    expect: [`none of your ${glucoseWeek.length}`, `${grouped(Math.max(...values(glucoseWeek)))} mg/dL`],
  },
  {
    question: "how often was my glucose under 70 last 3 days",
    expect: [`${count(within(GLUCOSE, lastDays(3)), (v) => v < 70)} of your ${within(GLUCOSE, lastDays(3)).length}`],
  },
  { question: "Was my glucose ever lower than 66?", expect: [`${count(GLUCOSE, (v) => v < 66)} of your ${GLUCOSE.length}`] },
  {
    question: "How many days did I walk more than 10000 steps this week?",
    expect: [`${count(stepsWeek, (v) => v > 10000)} of your ${stepsWeek.length} days`],
  },
  {
    question: "how many days over 10k steps this week",
    expect: [`${count(stepsWeek, (v) => v > 10000)} of your ${stepsWeek.length} days`, "above 10,000 steps"],
  },
  // Signs and words run together, as typed on a phone.
  {
    question: "Was my glucose < 70 this month?",
    expect: [`${count(glucoseMonth, (v) => v < 70)} of your ${glucoseMonth.length}`, "below 70 mg/dL"],
  },
  {
    question: "glucose >180 in the past 7 days",
    expect: [`${count(glucoseWeek, (v) => v > 180)} of your ${glucoseWeek.length}`, "above 180 mg/dL"],
  },
  {
    // "more than" is a threshold here, not a comparison with last week.
    question: "How many days did I walk more than 10000 steps last week?",
    expect: [`${count(stepsWeek, (v) => v > 10000)} of your ${stepsWeek.length} days`],
  },
  {
    question: "did I ever do fewer than 5k steps this month",
    expect: [`${count(within(STEPS, month), (v) => v < 5000)} of your ${within(STEPS, month).length} days`],
  },
  // Sleep.
  { question: "How did I sleep last night?", expect: [hm(lastNight.light + lastNight.deep + lastNight.rem)] },
  { question: "how long did i sleep last night", expect: [hm(lastNight.light + lastNight.deep + lastNight.rem)] },
  { question: "how did i sleep lastnight", expect: [hm(lastNight.light + lastNight.deep + lastNight.rem)] },
  { question: "how much deep sleep last nite", expect: [`${hm(lastNight.deep)} of deep sleep`] },
  { question: "how long did I sleep last nite", expect: [hm(lastNight.light + lastNight.deep + lastNight.rem)] },
  { question: "How much deep sleep did I get last night?", expect: [`${hm(lastNight.deep)} of deep sleep`] },
  { question: "how much rem sleep last night", expect: [`${hm(lastNight.rem)} of REM sleep`] },
  {
    question: "How did I sleep last week?",
    expect: [`${weekNights.length} nights`, hm(avg(weekNights.map((n) => n.light + n.deep + n.rem)))],
  },
  { question: "average deep sleep this week", expect: [`${hm(avg(weekNights.map((n) => n.deep)))} of deep sleep`] },
  // One weekday: the most recent such day before today (Wednesday 15 May).
  { question: "How many steps did I take on Monday?", expect: ["Monday 13 May", `${grouped(STEP_VALUES[12] ?? 0)} steps`] },
  { question: "steps last monday", expect: ["Monday 13 May", `${grouped(STEP_VALUES[12] ?? 0)} steps`] },
  {
    question: "what was my heart rate on tuesday",
    expect: ["Tuesday 14 May", `${oneDecimal(avg(values(within(HEART, localDay(14)))))} bpm`],
  },
  {
    question: "what was my glucose like on Sat",
    expect: ["Saturday 11 May", `${grouped(avg(values(within(GLUCOSE, localDay(11)))))} mg/dL`],
  },
  {
    question: "highest glucose on wednesday",
    expect: ["Wednesday 8 May", `${grouped(Math.max(...values(within(GLUCOSE, localDay(8)))))} mg/dL`],
  },
  {
    question: "How did I sleep on Monday?",
    expect: ["1 night on Monday 13 May", hm(nightsStarting(localDay(13)).map((n) => n.light + n.deep + n.rem)[0] ?? 0)],
  },
  { question: "resting heart rate on tuesday", noData: /^I have no resting heart rate data on Tuesday 14 May\.$/ },
  // Time zones: the same words are local days (NOW is 08:00 in New York, 02:00 in Honolulu, 02:00 next day in Kiribati).
  {
    question: "average glucose yesterday",
    tz: "America/New_York",
    expect: [`${grouped(avg(values(within(GLUCOSE, localDay(14, -4)))))} mg/dL`],
  },
  {
    question: "glucose today",
    tz: "America/New_York",
    expect: [`${grouped(avg(values(within(GLUCOSE, { since: localDay(15, -4).since, until: NOW_MS }))))} mg/dL`],
  },
  {
    question: "highest heart rate yesterday",
    tz: "America/New_York",
    // 14 May 18:00 UTC is 14:00 in New York.
    expect: [`${oneDecimal(Math.max(...values(within(HEART, localDay(14, -4)))))} bpm, at 2024-05-14 14:00 (America/New_York)`],
  },
  { question: "steps on Monday", tz: "+14:00", expect: ["Monday 13 May", `${grouped(STEP_VALUES[11] ?? 0)} steps`] },
  { question: "steps today", tz: "+14:00", noData: /^I have no steps data today\.$/ },
  { question: "How did I sleep last night?", tz: "-10:00", noData: /^I have no sleep session that ended this morning/ },
  {
    question: "steps yesterday",
    tz: "-10:00",
    expect: [`${grouped(total(values(within(STEPS, localDay(14, -10)))))} steps`],
  },
  // This week against last week.
  {
    question: "Compare my steps this week with last week",
    expect: [
      `${grouped(total(values(stepsWeek)))} steps`,
      `against ${grouped(total(values(within(STEPS, weekBefore))))} steps in the 7 days before`,
      `${grouped(Math.abs(total(values(stepsWeek)) - total(values(within(STEPS, weekBefore)))))} steps`,
    ],
  },
  {
    question: "steps this week vs last week",
    expect: [`${grouped(total(values(stepsWeek)))} steps, against ${grouped(total(values(within(STEPS, weekBefore))))} steps`],
  },
  {
    question: "Is my glucose higher than last week?",
    expect: [`${grouped(avg(values(glucoseWeek)))} mg/dL, against ${grouped(avg(values(within(GLUCOSE, weekBefore))))} mg/dL`],
  },
  {
    question: "avg heart rate this week compared to last week",
    expect: [
      `${oneDecimal(avg(values(within(HEART, week))))} bpm, against ${oneDecimal(avg(values(within(HEART, weekBefore))))} bpm`,
    ],
  },
  { question: "average daily steps this month compared with last month", noData: /^I have no steps data in the 30 days before/ },
  // Summaries: the person's clinical narrative of that local day or week.
  { question: "Summarize my week", summary: summaryOf("week:2024-05-13", "Your week of 13 May – 19 May (so far): ") },
  { question: "how was my week?", summary: summaryOf("week:2024-05-13", "Your week of 13 May – 19 May (so far): ") },
  { question: "summarise last week", summary: summaryOf("week:2024-05-06", "Your week of 6 May – 12 May: ") },
  { question: "Give me an overview of today", summary: summaryOf("day:2024-05-15", "Your day today, Wednesday 15 May: ") },
  { question: "how was my day", summary: summaryOf("day:2024-05-15", "Your day today, Wednesday 15 May: ") },
  { question: "summarize yesterday", summary: summaryOf("day:2024-05-14", "Your day, Tuesday 14 May: ") },
  { question: "recap of monday", summary: summaryOf("day:2024-05-13", "Your day, Monday 13 May: ") },
  {
    question: "summarize my sleep this week",
    summary: summaryOf("week:2024-05-13", "Your week of 13 May – 19 May (so far): ", ["sleep"]),
  },
  { question: "sumarize my day", tz: "-10:00", summary: summaryOf("day:2024-05-15", "Your day today, Wednesday 15 May: ") },
  { question: "summarize my day", tz: "+14:00", noData: /^I have no data to summarize for your day today, Thursday 16 May\.$/ },
  // Declined: other comparisons, diagnoses, every-weekday, unparsed periods, units, counts without a value.
  { question: "steps today vs yesterday", decline: /compare only this week with last week/ },
  { question: "compare my sleep this week with last week", decline: /not sleep/ },
  { question: "highest glucose this week versus last week", decline: /not sleep, counts or extremes/ },
  { question: "Summarize my month", decline: /summarize a day or a week/ },
  { question: "Give me an overview of my health", decline: /summarize a day or a week/ },
  { question: "summarize my week, do I have diabetes?", decline: /diagnose/ },
  { question: "Do I have diabetes?", decline: /diagnose/ },
  { question: "Is my glucose normal?", decline: /diagnose/ },
  { question: "steps on the weekend", decline: /not every such day or weekends/ },
  { question: "how much do I sleep on Mondays", decline: /not every such day or weekends/ },
  { question: "Was my glucose ever low?", decline: /value to count against/ },
  { question: "how often do I sleep badly", decline: /value to count against/ },
  { question: "What was my heart rate last night?", decline: /only about sleep/ },
  { question: "glucose below 3.9 mmol/L", decline: /convert units/ },
  { question: "how many times was my blood sugar under 4 mmol this week", decline: /convert units/ },
  { question: "Why is my heart rate so high?", decline: /causes/ },
  { question: "Will my weight go down next month?", decline: /today, yesterday or the last N days/ },
  { question: "steps in March", decline: /today, yesterday or the last N days/ },
  { question: "glucose 2 weeks ago", decline: /today, yesterday or the last N days/ },
  { question: "average glucose in the last 48 hours", decline: /today, yesterday or the last N days/ },
  { question: "Did I sleep less than 6 hours this week?", decline: /length of sleep/ },
  { question: "was my heart rate above 100 or my glucose above 180", decline: /one measure at a time/ },
  // A time of day, another night, or a period it does not read: never "all the data" instead.
  { question: "What was my heart rate at 3pm yesterday?", decline: /time or part of a day/ },
  { question: "how much REM did I get the night before last?", decline: /time or part of a day/ },
  { question: "steps in 2 weeks", decline: /today, yesterday, a day such as Monday or the last N days/ },
  { question: "average glucose this quarter", decline: /today, yesterday, a day such as Monday or the last N days/ },
  // Inclusive or negated thresholds are not the strict counts the analyst gives.
  { question: "Was my glucose ≤ 70 this month?", decline: /strictly below or above/ },
  { question: "glucose >= 180 last week", decline: /strictly below or above/ },
  { question: "Was my glucose never below 70 this month?", decline: /strictly below or above/ },
  { question: "Did I walk at least 10000 steps yesterday?", decline: /strictly below or above/ },
  { question: "steps in the last 0 days", decline: /today, yesterday or the last N days/ },
  { question: "What's the weather tomorrow?", decline: /^I can answer questions/ },
  { question: "how tall am I", decline: /^I can answer questions/ },
];

/**
 * The query as the Worker would make it: the fixed data, the zone, and for a summary the stored
 * narrative of the day or week the question names (found the way src/ai/query.ts finds it).
 */
export function inputFor(entry: QuestionCase): AnalystInput {
  const target = summaryTarget(entry.question, NOW, entry.tz);
  const stored = target === null ? undefined : NARRATIVES[`${target.period}:${target.date}`];
  return {
    question: entry.question,
    now: NOW,
    timeZone: entry.tz,
    data: stored === undefined ? DATA : { ...DATA, narrative: { ...stored, timeZone: entry.tz ?? "UTC" } },
  };
}

export type Outcome = "answered" | "declined" | "wrong";

/** Whether the answer is right for the case, and if not, why. */
export function judge(entry: QuestionCase, result: AnalystAnswer): { outcome: Outcome; reason?: string } {
  const wrong = (reason: string) => ({ outcome: "wrong" as const, reason: `${reason} — got: ${result.answer}` });
  if ("decline" in entry) {
    if (!DECLINE.test(result.answer) || !entry.decline.test(result.answer)) return wrong(`expected a decline ${entry.decline}`);
    if (result.figures.length > 0) return wrong("a decline with figures");
    return { outcome: "declined" };
  }
  if (DECLINE.test(result.answer)) return wrong("declined an in-scope question");
  if ("noData" in entry) {
    if (!entry.noData.test(result.answer)) return wrong(`expected ${entry.noData}`);
    if (result.figures.length > 0) return wrong("figures without data");
    return { outcome: "answered" };
  }
  if ("summary" in entry) {
    const { opening, sentences, figures } = entry.summary;
    if (!result.answer.startsWith(opening)) return wrong(`expected to open with "${opening}"`);
    const missing = sentences.find((sentence) => !result.answer.includes(sentence));
    if (missing !== undefined) return wrong(`missing "${missing}"`);
    if (JSON.stringify(result.figures) !== JSON.stringify(figures)) return wrong("figures differ from the narrative's");
    return { outcome: "answered" };
  }
  const missing = entry.expect.find((expected) => !result.answer.includes(expected));
  if (missing !== undefined) return wrong(`expected "${missing}"`);
  return { outcome: "answered" };
}
