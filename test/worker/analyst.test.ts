import { describe, expect, it } from "vitest";
import type { AnalystData, SeriesPoint } from "../../enclave-bridge/src/analyst/index.ts";
import { analyze, CAPABILITIES, metricsNeeded, periodOf } from "../../enclave-bridge/src/analyst/index.ts";

const NOW = "2024-05-15T12:00:00.000Z";

function daily(values: number[], firstDay: string, hour = "07:00"): SeriesPoint[] {
  return values.map((value, index) => {
    const start = new Date(Date.parse(`${firstDay}T${hour}:00.000Z`) + index * 86_400_000).toISOString();
    return { start, end: start, value };
  });
}

// 5–14 May at 07:00: the first four fall outside "last week" (from 8 May 12:00, rolling).
const RHR = daily([70, 71, 72, 60, 58, 59, 57, 61, 56, 55], "2024-05-05");

function ask(question: string, data: AnalystData) {
  return analyze({ question, now: NOW, data });
}

describe("analyst", () => {
  it("answers the average resting heart rate over the last week with the exact figure", () => {
    const result = ask("What was my average resting heart rate last week?", {
      metrics: { resting_heart_rate: { unit: "bpm", points: RHR } },
    });
    // (58+59+57+61+56+55)/6 = 346/6 = 57.67
    expect(result.answer).toBe("Your average resting heart rate in the last 7 days was 57.7 bpm (6 readings).");
    expect(result.usedMetrics).toEqual(["resting_heart_rate"]);
    expect(result.figures).toEqual([
      { label: "average resting heart rate", value: 57.7, unit: "bpm" },
      { label: "readings", value: 6, unit: "count" },
    ]);
  });

  it("reads RHR as resting heart rate and defaults to all the data", () => {
    const result = ask("my RHR?", { metrics: { resting_heart_rate: { unit: "bpm", points: RHR } } });
    expect(result.answer).toBe("Your average resting heart rate across all the data given was 61.9 bpm (10 readings).");
  });

  it("gives extremes with when they happened, and ranges", () => {
    const data = { metrics: { resting_heart_rate: { unit: "bpm", points: RHR } } };
    expect(ask("highest resting heart rate in the last 7 days", data).answer).toBe(
      "Your highest resting heart rate in the last 7 days was 61.0 bpm, at 2024-05-12 07:00 UTC.",
    );
    expect(ask("When was my lowest RHR?", data).figures).toEqual([
      { label: "lowest resting heart rate", value: 55, unit: "bpm" },
    ]);
    expect(ask("what was the range of my resting heart rate last week", data).answer).toBe(
      "Your resting heart rate in the last 7 days ranged from 55.0 bpm (at 2024-05-14 07:00 UTC) to 61.0 bpm (at 2024-05-12 07:00 UTC).",
    );
  });

  it("describes a trend with its direction, halves and least-squares slope", () => {
    const weight = daily([80, 79.8, 79.6, 79.4, 79.2], "2024-05-10");
    const result = ask("Is my weight trending down?", { metrics: { weight: { unit: "kg", points: weight } } });
    expect(result.answer).toBe(
      "Your weight across all the data given is falling: it averaged 79.9 kg in the first half and 79.3 kg in the second, a change of -0.20 kg per day.",
    );
    expect(result.figures).toContainEqual({ label: "weight change per day", value: -0.2, unit: "kg/day" });
    const flat = ask("HRV trend", { metrics: { hrv_rmssd: { unit: "ms", points: daily([40, 41, 41, 40], "2024-05-10") } } });
    expect(flat.answer).toContain("is stable");
  });

  it("computes glucose time in range at 70–180 mg/dL by default or a range from the question", () => {
    const points = [65, 90, 120, 150, 175, 181, 200, 110].map((value, index) => ({
      start: new Date(Date.parse("2024-05-15T00:00:00Z") + index * 300_000).toISOString(),
      end: new Date(Date.parse("2024-05-15T00:00:00Z") + index * 300_000).toISOString(),
      value,
    }));
    const data = { metrics: { blood_glucose: { unit: "mg/dL", points } } };
    const result = ask("What was my time in range today?  blood sugar", data);
    expect(result.answer).toBe(
      "Today, 62.5% of your 8 blood glucose readings were in range (70–180 mg/dL); 12.5% below and 25.0% above.",
    );
    expect(result.figures[0]).toEqual({ label: "time in range", value: 62.5, unit: "%" });
    expect(ask("how much of my glucose was between 80 and 160?", data).figures[0]).toEqual({
      label: "time in range",
      value: 50,
      unit: "%",
    });
  });

  it("totals steps per day and finds the best day", () => {
    const points = [
      { start: "2024-05-14T08:00:00Z", end: "2024-05-14T09:00:00Z", value: 3000 },
      { start: "2024-05-14T18:00:00Z", end: "2024-05-14T19:00:00Z", value: 4500 },
      { start: "2024-05-13T08:00:00Z", end: "2024-05-13T09:00:00Z", value: 9000 },
      { start: "2024-05-15T08:00:00Z", end: "2024-05-15T09:00:00Z", value: 1200 },
    ];
    const data = { metrics: { steps: { unit: "count", points } } };
    expect(ask("How many steps did I take yesterday?", data).answer).toBe(
      "Your total steps yesterday was 7,500 steps (1 day with data).",
    );
    expect(ask("which day did I walk the most this week", data).answer).toBe(
      "Your highest steps per day in the last 7 days was 9,000 steps, on 2024-05-13.",
    );
    expect(ask("average steps last month", data).figures[0]).toEqual({
      label: "average steps per day",
      value: 5900,
      unit: "count",
    });
  });

  it("averages sleep stages per night and time asleep", () => {
    const sleep = [
      {
        start: "2024-05-13T22:00:00Z",
        end: "2024-05-14T06:00:00Z",
        stages: [
          { stage: "light", start: "2024-05-13T22:00:00Z", end: "2024-05-14T01:00:00Z" },
          { stage: "deep", start: "2024-05-14T01:00:00Z", end: "2024-05-14T02:30:00Z" },
          { stage: "rem", start: "2024-05-14T02:30:00Z", end: "2024-05-14T05:30:00Z" },
          { stage: "awake", start: "2024-05-14T05:30:00Z", end: "2024-05-14T06:00:00Z" },
        ],
      },
      // No stages: the whole session counts as asleep.
      { start: "2024-05-14T23:00:00Z", end: "2024-05-15T06:00:00Z", stages: [] },
    ];
    const data = { metrics: {}, sleep };
    const result = ask("How did I sleep last week?", data);
    expect(result.answer).toBe(
      "Over 2 nights in the last 7 days you slept 7 h 15 min per night on average: deep 45 min, light 1 h 30 min, REM 1 h 30 min, awake 15 min.",
    );
    expect(result.usedMetrics).toEqual(["sleep"]);
    expect(ask("how much deep sleep do I get?", data).answer).toBe(
      "You averaged 45 min of deep sleep per night over 2 nights across all the data given.",
    );
  });

  it("says what it can answer when it does not understand, and when data is missing", () => {
    expect(ask("What's the weather tomorrow?", { metrics: {} })).toEqual({ answer: CAPABILITIES, usedMetrics: [], figures: [] });
    expect(ask("average heart rate yesterday", { metrics: {} }).answer).toBe("I have no heart rate data yesterday.");
  });

  it("tells the Worker which data and which period a question needs", () => {
    expect(metricsNeeded("Compare my resting heart rate and blood sugar with my deep sleep")).toEqual([
      "resting_heart_rate",
      "blood_glucose",
      "sleep",
    ]);
    expect(metricsNeeded("hello")).toEqual([]);
    expect(periodOf("steps last 3 days", NOW)).toEqual({ since: "2024-05-12T12:00:00.000Z", until: NOW });
    expect(periodOf("glucose yesterday", NOW)).toEqual({ since: "2024-05-14T00:00:00.000Z", until: "2024-05-15T00:00:00.000Z" });
    expect(periodOf("weight", NOW)).toEqual({ since: null, until: null });
  });
});
