/**
 * Heart: resting rate, the range and the time above 100 bpm outside workouts, each workout's peak
 * and 2-minute recovery, HRV (RMSSD) against the person's own 28-day baseline, SpO2 lows and the
 * respiratory rate. Thresholds are the conventional adult ones, each stated as a reference.
 */

import { metricUnit } from "../../observations/metrics";
import { countPerDay, dayIndexOf, mergeIntervals, minutesWhere, stats } from "../series";
import type { NarrativeData, NarrativeSection } from "../types";
import { duration, num, plural, SectionFigures, weekday, words } from "../wording";

/** Canonical units of the metric registry. */
const BPM = metricUnit("heart_rate");
const MS = metricUnit("hrv_rmssd");
const BREATHS = metricUnit("respiratory_rate");

/** Heart-rate recovery at 2 min ≤ 22 bpm was the blunted cut-off of Shetler et al. (JACC 2001). */
const BLUNTED_RECOVERY_BPM = 22;
/** A baseline of fewer readings than this is not a usual range. */
const BASELINE_MIN_READINGS = 7;

export function heartSection(data: NarrativeData): NarrativeSection | null {
  const series = [data.heartRate, data.restingHeartRate, data.hrvRmssd, data.oxygenSaturation, data.respiratoryRate];
  const workouts = data.workouts.filter((w) => w.peakHeartRate !== null).sort((a, b) => a.start - b.start);
  const samples = series.reduce((sum, s) => sum + s.times.length, 0);
  if (samples === 0 && workouts.length === 0) return null;

  const dayHasData = new Array<boolean>(data.days.length).fill(false);
  for (const s of series) {
    const counts = countPerDay(s.times, data.days);
    for (let i = 0; i < counts.length; i++) if ((counts[i] ?? 0) > 0) dayHasData[i] = true;
  }
  for (const w of workouts) {
    const d = dayIndexOf(w.start, data.days);
    if (d >= 0) dayHasData[d] = true;
  }

  const figures = new SectionFigures();
  const sentences: string[] = [];

  const resting = stats(data.restingHeartRate.values);
  if (resting === null) {
    figures.missing({ code: "resting_heart_rate", label: "Resting heart rate", unit: BPM, decimals: 0 });
    sentences.push("No resting heart rate recorded.");
  } else {
    const rhr = figures.add(
      {
        code: "resting_heart_rate",
        label: "Resting heart rate (mean)",
        unit: BPM,
        decimals: 0,
        reference: "60–100 bpm (adult, at rest)",
        flag: (v) => (v < 60 ? "low" : v > 100 ? "high" : undefined),
      },
      resting.mean,
    );
    const k = figures.add(
      { code: "resting_heart_rate_readings", label: "Resting heart rate readings", unit: "readings", decimals: 0 },
      resting.n,
    );
    // "mean of 1 reading" would claim an average that was never taken.
    const basis = k === 1 ? "1 reading" : `mean of ${num(k)} readings`;
    sentences.push(`Resting heart rate ${num(rhr)} bpm (${basis}; reference 60–100 bpm).`);
  }

  const hr = stats(data.heartRate.values);
  if (hr !== null) {
    const min = figures.add({ code: "min_heart_rate", label: "Lowest heart rate", unit: BPM, decimals: 0 }, hr.min);
    const max = figures.add({ code: "max_heart_rate", label: "Highest heart rate", unit: BPM, decimals: 0 }, hr.max);
    const n = figures.add({ code: "heart_rate_samples", label: "Heart rate samples", unit: "samples", decimals: 0 }, hr.n);
    const excluded = mergeIntervals(data.workouts);
    // Without the workouts (not shared with this reader) exercise cannot be left out: say so
    // rather than present minutes of a run as a fast heart rate at rest.
    const known = data.workoutsRead !== false;
    const above = figures.add(
      {
        code: "minutes_above_100",
        label: known ? "Time above 100 bpm outside workouts" : "Time above 100 bpm",
        unit: "min",
        decimals: 0,
        reference: known
          ? "> 100 bpm outside workouts"
          : "> 100 bpm; includes exercise (workouts are not shared with this reader)",
      },
      minutesWhere(data.heartRate.times, data.heartRate.values, (v) => v > 100, excluded),
    );
    const where = known ? "outside workouts" : "(exercise included: workouts are not shared)";
    sentences.push(
      `Heart rate ranged ${num(min)}–${num(max)} bpm over ${num(n)} ${plural(n, "sample")}; ${duration(above)} above 100 bpm ${where}.`,
    );
  }

  if (workouts.length > 0) {
    const parts = workouts.map((w, i) => {
      const code = `workout_${i + 1}`;
      const type = words(w.exerciseType);
      // In a week, the weekday tells the workouts apart (and matches them to the activity section).
      const day = data.period === "week" ? data.days[dayIndexOf(w.start, data.days)] : undefined;
      const name = day === undefined ? type : `${weekday(day.date)} ${type}`;
      const peak = figures.add(
        { code: `${code}_peak_heart_rate`, label: `Peak heart rate, workout ${i + 1} (${type})`, unit: BPM, decimals: 0 },
        w.peakHeartRate ?? 0,
      );
      if (w.heartRateTwoMinutesAfter === null) return `${name}, peak ${num(peak)} bpm, recovery not recorded`;
      const recovery = figures.add(
        {
          code: `${code}_recovery`,
          label: `Heart rate recovery at 2 min, workout ${i + 1} (${type})`,
          unit: BPM,
          decimals: 0,
          reference: `peak − heart rate 2 min after the end; ≤ ${BLUNTED_RECOVERY_BPM} bpm blunted (Shetler et al. 2001)`,
          flag: (v) => (v <= BLUNTED_RECOVERY_BPM ? "low" : undefined),
        },
        (w.peakHeartRate ?? 0) - w.heartRateTwoMinutesAfter,
      );
      const blunted = recovery <= BLUNTED_RECOVERY_BPM ? ` (≤ ${BLUNTED_RECOVERY_BPM} bpm: blunted)` : "";
      return `${name}, peak ${num(peak)} bpm, falling ${num(recovery)} bpm in the 2 min after${blunted}`;
    });
    sentences.push(`${workouts.length === 1 ? "Workout" : "Workouts"}: ${parts.join("; ")}.`);
  }

  const hrv = stats(data.hrvRmssd.values);
  if (hrv !== null) {
    const baseline = stats(data.hrvRmssdBaseline.values);
    const mean = figures.add(
      {
        code: "hrv_rmssd",
        label: "HRV (RMSSD), mean",
        unit: MS,
        decimals: 0,
        reference: `usual range: mean ± 1 SD of the 28 days before (needs ≥ ${BASELINE_MIN_READINGS} readings)`,
        flag: (v) => {
          if (baseline === null || baseline.sd === null || baseline.n < BASELINE_MIN_READINGS) return undefined;
          const low = Math.round(baseline.mean) - Math.round(baseline.sd);
          const high = Math.round(baseline.mean) + Math.round(baseline.sd);
          return v < low ? "low" : v > high ? "high" : undefined;
        },
      },
      hrv.mean,
    );
    if (baseline === null || baseline.sd === null || baseline.n < BASELINE_MIN_READINGS) {
      sentences.push(
        `HRV (RMSSD) mean ${num(mean)} ms; no 28-day baseline to compare with (fewer than ${BASELINE_MIN_READINGS} readings before the period).`,
      );
    } else {
      const bMean = figures.add(
        { code: "hrv_rmssd_baseline_mean", label: "HRV (RMSSD), 28-day baseline mean", unit: MS, decimals: 0 },
        baseline.mean,
      );
      const bSd = figures.add(
        { code: "hrv_rmssd_baseline_sd", label: "HRV (RMSSD), 28-day baseline SD", unit: MS, decimals: 0 },
        baseline.sd,
      );
      // How many readings the baseline rests on: "the previous 28 days" may hold far fewer than 28.
      const bN = figures.add(
        { code: "hrv_rmssd_baseline_readings", label: "HRV (RMSSD), 28-day baseline readings", unit: "readings", decimals: 0 },
        baseline.n,
      );
      const where = mean < bMean - bSd ? "below" : mean > bMean + bSd ? "above" : "within";
      sentences.push(
        `HRV (RMSSD) mean ${num(mean)} ms, ${where} the usual range of the previous 28 days (${num(bMean)} ± ${num(bSd)} ms, ${num(bN)} readings).`,
      );
    }
  }

  const spo2 = stats(data.oxygenSaturation.values);
  if (spo2 !== null) {
    const lowest = figures.add(
      {
        code: "min_oxygen_saturation",
        label: "Lowest SpO2",
        unit: "%",
        decimals: 0,
        reference: "95–100 % typical; < 90 % low",
        flag: (v) => (v < 90 ? "attention" : undefined),
      },
      spo2.min,
    );
    const mean = figures.add({ code: "mean_oxygen_saturation", label: "Mean SpO2", unit: "%", decimals: 0 }, spo2.mean);
    const below = figures.add(
      {
        code: "minutes_below_90_spo2",
        label: "Time with SpO2 below 90 %",
        unit: "min",
        decimals: 0,
        reference: "< 90 %",
        flag: (v) => (v > 0 ? "attention" : undefined),
      },
      minutesWhere(data.oxygenSaturation.times, data.oxygenSaturation.values, (v) => v < 90),
    );
    sentences.push(`SpO2 lowest ${num(lowest)} % (mean ${num(mean)} %); ${duration(below)} below 90 %.`);
  }

  const rr = stats(data.respiratoryRate.values);
  if (rr !== null) {
    const mean = figures.add(
      {
        code: "respiratory_rate",
        label: "Respiratory rate, mean",
        unit: BREATHS,
        decimals: 1,
        reference: "12–20 breaths/min (adult, at rest)",
        flag: (v) => (v < 12 ? "low" : v > 20 ? "high" : undefined),
      },
      rr.mean,
    );
    sentences.push(`Respiratory rate mean ${num(mean, 1)} breaths/min (reference 12–20).`);
  }

  return {
    domain: "heart",
    title: "Heart",
    sentences,
    figures: figures.list,
    coverage: {
      samples,
      daysWithData: dayHasData.filter(Boolean).length,
      days: data.days.length,
      sufficient: true,
    },
  };
}
