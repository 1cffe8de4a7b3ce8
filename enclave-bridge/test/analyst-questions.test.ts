import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { AnalystData, SeriesPoint, SleepSessionData } from "../src/analyst/index.ts";
import { analyze, metricsNeeded, periodOf } from "../src/analyst/index.ts";

/**
 * Natural phrasings (varied wording, periods, typos) over fixed data. Each expected figure is
 * computed here from the raw data with plain loops, not with the analyst's helpers; each question
 * is either answered with that figure or declined, never answered with another question's figure.
 */
const NOW = "2024-05-15T12:00:00.000Z";
const NOW_MS = Date.parse(NOW);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (day: number, hour: number, minute = 0) => Date.UTC(2024, 4, day, hour, minute);
const point = (ms: number, value: number): SeriesPoint => {
  const start = new Date(ms).toISOString();
  return { start, end: start, value };
};

// Heart rate: 06:00 and 18:00 on 1–14 May, and 06:00 on 15 May.
const HEART: { at: number; value: number }[] = [];
for (let day = 1; day <= 15; day++) {
  HEART.push({ at: at(day, 6), value: 55 + day });
  if (day < 15) HEART.push({ at: at(day, 18), value: 75 + 2 * day });
}
// Steps: one reading at noon on 1–14 May.
const STEP_VALUES = [8000, 12000, 4500, 10000, 15000, 3000, 9500, 11000, 7000, 13000, 6000, 10001, 9999, 12500];
const STEPS = STEP_VALUES.map((value, index) => ({ at: at(index + 1, 12), value }));
// Glucose: every 6 h from 1 May 00:00 to 15 May 06:00, a 7-value cycle that does not align with days.
const GLUCOSE_CYCLE = [95, 140, 65, 190, 110, 72, 150];
const GLUCOSE: { at: number; value: number }[] = [];
for (let ms = at(1, 0), index = 0; ms <= at(15, 6); ms += 6 * HOUR, index++) {
  GLUCOSE.push({ at: ms, value: GLUCOSE_CYCLE[index % GLUCOSE_CYCLE.length] ?? 0 });
}
// Sleep: a night from 22:30 on each of 1–14 May: light, deep, REM, then 15 min awake.
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
const iso = (ms: number) => new Date(ms).toISOString();
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

const DATA: AnalystData = {
  metrics: {
    heart_rate: { unit: "bpm", points: HEART.map((r) => point(r.at, r.value)) },
    steps: { unit: "count", points: STEPS.map((r) => point(r.at, r.value)) },
    blood_glucose: { unit: "mg/dL", points: GLUCOSE.map((r) => point(r.at, r.value)) },
  },
  sleep: SLEEP,
};

// Independent expectations: windows, sums and formatting written out here.
const lastDays = (days: number) => ({ since: NOW_MS - days * DAY, until: NOW_MS });
const TODAY = { since: at(15, 0), until: NOW_MS };
const YESTERDAY = { since: at(14, 0), until: at(15, 0) };
type Window = { since: number; until: number };
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
const lastNight = NIGHTS.filter((n) => n.end > NOW_MS - DAY && n.end <= NOW_MS).sort((a, b) => b.end - a.end)[0];

type Case = { question: string; expect: string[] } | { question: string; decline: RegExp };
const DECLINE = /^(?:I can't|I can answer|I can count|I can only|I can compare|Tell me)/;

const week = lastDays(7);
const month = lastDays(30);
const weekBefore = { since: NOW_MS - 14 * DAY, until: NOW_MS - 7 * DAY };
const glucoseWeek = within(GLUCOSE, week);
const glucoseMonth = within(GLUCOSE, month);
const stepsWeek = within(STEPS, week);
const heartYesterday = values(within(HEART, YESTERDAY));
const weekNights = nightsStarting(week);
if (lastNight === undefined) throw new Error("fixture has no last night");

const CASES: Case[] = [
  // Averages, extremes, ranges, totals.
  { question: "What was my average heart rate last week?", expect: [`${oneDecimal(avg(values(within(HEART, week))))} bpm`] },
  { question: "avg hr past 7 days", expect: [`${oneDecimal(avg(values(within(HEART, week))))} bpm`] },
  { question: "whats my mean pulse this week", expect: [`${oneDecimal(avg(values(within(HEART, week))))} bpm`] },
  {
    question: "What was my averge heart rate in the last 3 days?",
    expect: [`${oneDecimal(avg(values(within(HEART, lastDays(3)))))} bpm`],
  },
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
  { question: "steps in the last 14 days", expect: [`${grouped(total(values(within(STEPS, lastDays(14)))))} steps`] },
  { question: "average daily steps last week", expect: [`${grouped(avg(values(stepsWeek)))} steps`] },
  { question: "Most steps in a day this month", expect: [`${grouped(Math.max(...values(within(STEPS, month))))} steps`] },
  { question: "average blood sugar yesterday", expect: [`${grouped(avg(values(within(GLUCOSE, YESTERDAY))))} mg/dL`] },
  { question: "glucose today", expect: [`${grouped(avg(values(within(GLUCOSE, TODAY))))} mg/dL`] },
  { question: "mean glucose last 2 weeks", expect: [`${grouped(avg(values(within(GLUCOSE, lastDays(14)))))} mg/dL`] },
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
  // Ever below / above, how many times, how often.
  {
    question: "Was my glucose ever below 70 this month?",
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
  // Sleep.
  { question: "How did I sleep last night?", expect: [hm(lastNight.light + lastNight.deep + lastNight.rem)] },
  { question: "how long did i sleep last night", expect: [hm(lastNight.light + lastNight.deep + lastNight.rem)] },
  { question: "How much deep sleep did I get last night?", expect: [`${hm(lastNight.deep)} of deep sleep`] },
  { question: "how much rem sleep last night", expect: [`${hm(lastNight.rem)} of REM sleep`] },
  {
    question: "How did I sleep last week?",
    expect: [`${weekNights.length} nights`, hm(avg(weekNights.map((n) => n.light + n.deep + n.rem)))],
  },
  { question: "average deep sleep this week", expect: [`${hm(avg(weekNights.map((n) => n.deep)))} of deep sleep`] },
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
  { question: "average daily steps this month compared with last month", expect: ["I have no steps data in the 30 days before"] },
  // Declined: comparisons, summaries, diagnoses, weekdays, unparsed periods, units, counts without a value.
  { question: "steps today vs yesterday", decline: /compare only this week with last week/ },
  { question: "compare my sleep this week with last week", decline: /not sleep/ },
  { question: "highest glucose this week versus last week", decline: /not sleep, counts or extremes/ },
  { question: "Summarize my week", decline: /summarize/ },
  { question: "Give me an overview of my health", decline: /summarize/ },
  { question: "Do I have diabetes?", decline: /diagnose/ },
  { question: "Is my glucose normal?", decline: /diagnose/ },
  { question: "How did I sleep on Monday?", decline: /weekday/ },
  { question: "steps on the weekend", decline: /weekday/ },
  { question: "Was my glucose ever low?", decline: /value to count against/ },
  { question: "how often do I sleep badly", decline: /value to count against/ },
  { question: "What was my heart rate last night?", decline: /only about sleep/ },
  { question: "glucose below 3.9 mmol/L", decline: /convert units/ },
  { question: "Why is my heart rate so high?", decline: /causes/ },
  { question: "Will my weight go down next month?", decline: /today, yesterday or the last N days/ },
  { question: "steps in March", decline: /today, yesterday or the last N days/ },
  { question: "glucose 2 weeks ago", decline: /today, yesterday or the last N days/ },
  { question: "Did I sleep less than 6 hours this week?", decline: /length of sleep/ },
  { question: "was my heart rate above 100 or my glucose above 180", decline: /one measure at a time/ },
  { question: "What's the weather tomorrow?", decline: /^I can answer questions/ },
  { question: "my stepps yesterday", decline: /^I can answer questions/ },
];

describe("analyst question set", () => {
  let answered = 0;
  let declined = 0;
  after(() => {
    const share = (n: number) => `${((n / CASES.length) * 100).toFixed(0)}%`;
    console.log(
      `analyst question set: ${CASES.length} questions, ${answered} answered correctly (${share(answered)}), ` +
        `${declined} declined (${share(declined)}), ${CASES.length - answered - declined} wrong`,
    );
  });

  for (const entry of CASES) {
    it(entry.question, () => {
      const result = analyze({ question: entry.question, now: NOW, data: DATA });
      if ("decline" in entry) {
        assert.match(result.answer, DECLINE, result.answer);
        assert.match(result.answer, entry.decline, result.answer);
        assert.deepEqual(result.figures, []);
        declined++;
      } else {
        assert.doesNotMatch(result.answer, DECLINE, result.answer);
        for (const expected of entry.expect) assert.ok(result.answer.includes(expected), `${expected} in: ${result.answer}`);
        answered++;
      }
    });
  }
});

describe("the data the Worker selects for these questions", () => {
  it("selects sleep overlapping the last 24 hours for last night, the asked window for a count, both weeks for a comparison", () => {
    assert.deepEqual(metricsNeeded("How did I sleep last night?"), ["sleep"]);
    assert.deepEqual(periodOf("How did I sleep last night?", NOW), { since: iso(NOW_MS - DAY), until: NOW });
    assert.deepEqual(metricsNeeded("Was my glucose ever below 70 this month?"), ["blood_glucose"]);
    assert.deepEqual(periodOf("Was my glucose ever below 70 this month?", NOW), { since: iso(NOW_MS - 30 * DAY), until: NOW });
    assert.deepEqual(periodOf("Compare my steps this week with last week", NOW), { since: iso(NOW_MS - 14 * DAY), until: NOW });
  });
});
