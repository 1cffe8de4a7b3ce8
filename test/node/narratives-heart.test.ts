import { describe, expect, it } from "vitest";
import { heartSection } from "../../src/narratives/sections/heart";
import type { NarrativeData, NarrativeSection } from "../../src/narratives/types";
import { emptySeries, narrativeData, series, workout } from "../support/narrative-data";
import { heartDay, M0, WEEK } from "../support/narrative-fixtures";

function section(data: NarrativeData): NarrativeSection {
  const s = heartSection(data);
  if (s === null) throw new Error("no heart section");
  return s;
}

function figure(s: NarrativeSection, code: string) {
  const f = s.figures.find((x) => x.code === code);
  if (f === undefined) throw new Error(`no figure ${code}`);
  return f;
}

describe("heart: one day", () => {
  const s = section(heartDay());

  it("reads resting rate, range, time above 100 bpm outside the workout, recovery, HRV, SpO2 and breathing", () => {
    // Resting (55 + 57 + 62) / 3 = 58 bpm, below the 60–100 reference.
    expect(figure(s, "resting_heart_rate")).toMatchObject({ value: 58, flag: "low", reference: "60–100 bpm (adult, at rest)" });
    expect(figure(s, "resting_heart_rate_readings").value).toBe(3);
    // 120 minute samples from 60 to 110 bpm. Minutes 60–89 are at 110 bpm; 70–79 are inside the
    // run (01:10–01:20), so 20 samples a minute apart remain: 20 min.
    expect(figure(s, "min_heart_rate").value).toBe(60);
    expect(figure(s, "max_heart_rate").value).toBe(110);
    expect(figure(s, "heart_rate_samples").value).toBe(120);
    expect(figure(s, "minutes_above_100").value).toBe(20);
    // Run: peak 150, 130 two minutes after: recovery 20 bpm ≤ 22 (blunted). Yoga had no heart rate.
    expect(figure(s, "workout_1_peak_heart_rate").value).toBe(150);
    expect(figure(s, "workout_1_recovery")).toMatchObject({ value: 20, flag: "low" });
    expect(s.figures.some((f) => f.code.startsWith("workout_2"))).toBe(false);
    // HRV (40 + 50) / 2 = 45 ms; baseline 30, 32, …, 42: mean 36, SD √(112 / 6) = 4.32 → 4;
    // usual range 32–40, so 45 is above it.
    expect(figure(s, "hrv_rmssd")).toMatchObject({ value: 45, flag: "high" });
    expect(figure(s, "hrv_rmssd_baseline_mean").value).toBe(36);
    expect(figure(s, "hrv_rmssd_baseline_sd").value).toBe(4);
    // SpO2 95, 89, 88, 91, 96: lowest 88, mean 459 / 5 = 91.8 → 92; 89 and 88 last a minute each.
    expect(figure(s, "min_oxygen_saturation")).toMatchObject({ value: 88, flag: "attention" });
    expect(figure(s, "mean_oxygen_saturation").value).toBe(92);
    expect(figure(s, "minutes_below_90_spo2")).toMatchObject({ value: 2, flag: "attention" });
    // Breathing (14 + 15 + 17) / 3 = 15.33 → 15.3.
    expect(figure(s, "respiratory_rate").value).toBe(15.3);
    expect(figure(s, "respiratory_rate").flag).toBeUndefined();
    // 120 + 3 + 2 + 5 + 3 samples, all on the one day.
    expect(s.coverage).toEqual({ samples: 133, daysWithData: 1, days: 1, sufficient: true });
  });

  it("says it in sentences", () => {
    expect(s.sentences).toEqual([
      "Resting heart rate 58 bpm (mean of 3 readings; reference 60–100 bpm).",
      "Heart rate ranged 60–110 bpm over 120 samples; 20 min above 100 bpm outside workouts.",
      "Workout: running, peak 150 bpm, falling 20 bpm in the 2 min after (≤ 22 bpm: blunted).",
      "HRV (RMSSD) mean 45 ms, above the usual range of the previous 28 days (36 ± 4 ms, 7 readings).",
      "SpO2 lowest 88 % (mean 92 %); 2 min below 90 %.",
      "Respiratory rate mean 15.3 breaths/min (reference 12–20).",
    ]);
  });
});

describe("heart: a reader without the activity category", () => {
  // Workouts are not read for them (nothing of the activity category is): the time above 100 bpm
  // cannot leave exercise out, and the sentence must not say it does.
  const data = heartDay();
  data.workouts = [];
  data.workoutsRead = false;
  const s = section(data);

  it("counts every minute above 100 bpm and says workouts were not told apart", () => {
    // Minutes 60–89 at 110 bpm, the run's 70–79 included this time: 30 min.
    expect(figure(s, "minutes_above_100")).toMatchObject({
      value: 30,
      label: "Time above 100 bpm",
      reference: "> 100 bpm; includes exercise (workouts are not shared with this reader)",
    });
    expect(s.sentences[1]).toBe(
      "Heart rate ranged 60–110 bpm over 120 samples; 30 min above 100 bpm (exercise included: workouts are not shared).",
    );
    expect(s.sentences.join(" ")).not.toContain("outside workouts");
  });
});

describe("heart: what is missing is said", () => {
  it("no resting rate, no baseline, recovery unknown", () => {
    const data = heartDay();
    data.restingHeartRate = emptySeries();
    data.hrvRmssdBaseline = series([
      [M0 - 3 * 86_400_000, 38],
      [M0 - 2 * 86_400_000, 40],
    ]);
    const w = data.workouts[0];
    if (w !== undefined) w.heartRateTwoMinutesAfter = null;
    const s = section(data);
    expect(s.sentences[0]).toBe("No resting heart rate recorded.");
    expect(figure(s, "resting_heart_rate").value).toBeNull();
    expect(s.sentences).toContain("Workout: running, peak 150 bpm, recovery not recorded.");
    expect(s.sentences).toContain(
      "HRV (RMSSD) mean 45 ms; no 28-day baseline to compare with (fewer than 7 readings before the period).",
    );
    expect(figure(s, "hrv_rmssd").flag).toBeUndefined();
  });

  it("a recovery of 23 bpm is not called blunted; HRV inside the usual range is 'within'", () => {
    const data = heartDay();
    const w = data.workouts[0];
    if (w !== undefined) w.heartRateTwoMinutesAfter = 127;
    data.hrvRmssd = series([[M0 + 4 * 3_600_000, 40]]);
    const s = section(data);
    expect(s.sentences).toContain("Workout: running, peak 150 bpm, falling 23 bpm in the 2 min after.");
    expect(figure(s, "workout_1_recovery").flag).toBeUndefined();
    expect(s.sentences).toContain(
      "HRV (RMSSD) mean 40 ms, within the usual range of the previous 28 days (36 ± 4 ms, 7 readings).",
    );
  });

  it("a baseline alone is no heart data", () => {
    const data = heartDay();
    data.heartRate = emptySeries();
    data.restingHeartRate = emptySeries();
    data.hrvRmssd = emptySeries();
    data.oxygenSaturation = emptySeries();
    data.respiratoryRate = emptySeries();
    data.workouts = [];
    expect(heartSection(data)).toBeNull();
  });
});

describe("heart: a week", () => {
  it("names each workout by its weekday, and a single resting reading is not called a mean", () => {
    const DAY = 86_400_000;
    const data = narrativeData(WEEK, {
      restingHeartRate: series([[M0 + 6 * 3_600_000, 57]]),
      workouts: [
        // Tuesday 3 and Thursday 5 March 2026, 18:00 UTC.
        workout({
          start: M0 + DAY + 18 * 3_600_000,
          end: M0 + DAY + 19 * 3_600_000,
          peakHeartRate: 160,
          heartRateTwoMinutesAfter: 120,
        }),
        workout({
          start: M0 + 3 * DAY + 18 * 3_600_000,
          end: M0 + 3 * DAY + 18.5 * 3_600_000,
          exerciseType: "biking",
          peakHeartRate: 150,
          heartRateTwoMinutesAfter: null,
        }),
      ],
    });
    expect(section(data).sentences).toEqual([
      "Resting heart rate 57 bpm (1 reading; reference 60–100 bpm).",
      "Workouts: Tue running, peak 160 bpm, falling 40 bpm in the 2 min after; Thu biking, peak 150 bpm, recovery not recorded.",
    ]);
  });
});
