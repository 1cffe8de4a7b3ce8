/**
 * Activity: steps (total, and for a week the daily mean and each day), active energy, workouts by
 * type with their count and duration, and for a week the workout minutes beside the WHO 2020
 * reference of 150–300 minutes a week of moderate-intensity activity (Bull et al., Br J Sports
 * Med 2020) — a reference, not advice, and workouts of any intensity count toward the figure.
 * A record with a duration counts for the local day it started on.
 */

import { metricUnit } from "../../observations/metrics";
import { dayIndexOf, MINUTE_MS } from "../series";
import type { IntervalSeries, LocalDay, NarrativeData, NarrativeSection } from "../types";
import { codePart, duration, listing, num, plural, SectionFigures, weekday, words } from "../wording";

/** Canonical unit of the metric registry (steps are a count; their figures say "steps"). */
const KCAL = metricUnit("active_energy");

/** Per-day totals of an interval series, by the day each record started; null for days without any. */
function perDay(series: IntervalSeries, days: readonly LocalDay[]): (number | null)[] {
  const totals = new Array<number | null>(days.length).fill(null);
  let d = 0;
  for (let i = 0; i < series.starts.length; i++) {
    const t = series.starts[i] ?? 0;
    const day = days[d];
    // Records come in start order, so the day only moves forward; fall back to a scan otherwise.
    if (day === undefined || t < day.start || t >= day.end) d = dayIndexOf(t, days);
    if (d < 0) {
      d = 0;
      continue;
    }
    totals[d] = (totals[d] ?? 0) + (series.values[i] ?? 0);
  }
  return totals;
}

function markDays(marks: boolean[], totals: readonly (number | null)[]): void {
  for (let i = 0; i < totals.length; i++) if (totals[i] !== null) marks[i] = true;
}

function sum(totals: readonly (number | null)[]): { total: number; days: number } {
  let total = 0;
  let days = 0;
  for (const t of totals) {
    if (t === null) continue;
    total += t;
    days++;
  }
  return { total, days };
}

export function activitySection(data: NarrativeData): NarrativeSection | null {
  const { steps, activeEnergy, workouts, days } = data;
  if (steps.values.length === 0 && activeEnergy.values.length === 0 && workouts.length === 0) return null;
  const week = data.period === "week";
  const figures = new SectionFigures();
  const sentences: string[] = [];
  const dayHasData = new Array<boolean>(days.length).fill(false);

  const stepDays = perDay(steps, days);
  const stepSum = sum(stepDays);
  if (steps.values.length === 0) {
    figures.missing({ code: "steps", label: "Steps", unit: "steps", decimals: 0 });
    sentences.push("No steps recorded.");
  } else {
    const total = figures.add(
      { code: "steps", label: week ? "Steps in the week" : "Steps", unit: "steps", decimals: 0 },
      stepSum.total,
    );
    if (!week) sentences.push(`${num(total)} steps.`);
    else {
      const mean = figures.add(
        { code: "daily_mean_steps", label: "Steps per day (mean over days with steps)", unit: "steps", decimals: 0 },
        stepSum.days > 0 ? stepSum.total / stepSum.days : 0,
      );
      const k = figures.add({ code: "days_with_steps", label: "Days with steps", unit: "days", decimals: 0 }, stepSum.days);
      sentences.push(
        `${num(total)} steps in the week, ${num(mean)} a day on average over ${num(k)} ${plural(k, "day")} with steps.`,
      );
      const list = days.map((day, i) => {
        const value = stepDays[i];
        if (value === null || value === undefined) return `${weekday(day.date)} none`;
        const shown = figures.add(
          { code: `steps_${day.date}`, label: `Steps, ${weekday(day.date)} ${day.date}`, unit: "steps", decimals: 0 },
          value,
        );
        return `${weekday(day.date)} ${num(shown)}`;
      });
      sentences.push(`Daily steps: ${list.join(", ")}.`);
    }
  }
  markDays(dayHasData, stepDays);

  const energyDays = perDay(activeEnergy, days);
  const energySum = sum(energyDays);
  if (activeEnergy.values.length > 0) {
    const total = figures.add(
      { code: "active_energy", label: week ? "Active energy in the week" : "Active energy", unit: KCAL, decimals: 0 },
      energySum.total,
    );
    if (!week) sentences.push(`Active energy ${num(total)} kcal.`);
    else {
      const mean = figures.add(
        {
          code: "daily_mean_active_energy",
          label: "Active energy per day (mean over days with data)",
          unit: KCAL,
          decimals: 0,
        },
        energySum.days > 0 ? energySum.total / energySum.days : 0,
      );
      const k = figures.add(
        { code: "days_with_active_energy", label: "Days with active energy", unit: "days", decimals: 0 },
        energySum.days,
      );
      sentences.push(`Active energy ${num(total)} kcal, ${num(mean)} kcal a day over ${num(k)} ${plural(k, "day")} with data.`);
    }
  }
  markDays(dayHasData, energyDays);

  const byType = new Map<string, { count: number; minutes: number }>();
  let workoutMinutes = 0;
  for (const w of workouts) {
    const minutes = (w.end - w.start) / MINUTE_MS;
    workoutMinutes += minutes;
    const entry = byType.get(w.exerciseType) ?? { count: 0, minutes: 0 };
    entry.count++;
    entry.minutes += minutes;
    byType.set(w.exerciseType, entry);
    const d = dayIndexOf(w.start, days);
    if (d >= 0) dayHasData[d] = true;
  }
  if (workouts.length === 0) {
    sentences.push("No workouts recorded.");
  } else {
    const types = [...byType.entries()].sort(([a, x], [b, y]) => y.minutes - x.minutes || (a < b ? -1 : a > b ? 1 : 0));
    const count = figures.add({ code: "workouts", label: "Workouts", unit: "workouts", decimals: 0 }, workouts.length);
    const parts = types.map(([type, entry]) => {
      const n = figures.add(
        { code: `workouts_${codePart(type)}`, label: `Workouts, ${words(type)}`, unit: "workouts", decimals: 0 },
        entry.count,
      );
      const minutes = figures.add(
        { code: `workouts_${codePart(type)}_minutes`, label: `Workout time, ${words(type)}`, unit: "min", decimals: 0 },
        entry.minutes,
      );
      return `${num(n)} ${words(type)} (${duration(minutes)})`;
    });
    sentences.push(`${num(count)} ${plural(count, "workout")}: ${listing(parts)}.`);
  }
  if (week) {
    const total = figures.add(
      {
        code: "workout_minutes",
        label: "Workout time in the week",
        unit: "min",
        decimals: 0,
        reference: "150–300 min/week of moderate-intensity or 75–150 min/week of vigorous-intensity activity (WHO 2020)",
      },
      workoutMinutes,
    );
    sentences.push(
      // No "below" or "within": the reference depends on intensity (vigorous minutes count double),
      // which workouts do not record, so the minutes are set beside it and the reader judges.
      `Workout time ${num(total)} min in the week; the WHO reference is 150–300 min/week of moderate-intensity or 75–150 min/week of vigorous-intensity activity, and workout intensity is not recorded here.`,
    );
  }

  return {
    domain: "activity",
    title: "Activity",
    sentences,
    figures: figures.list,
    coverage: {
      samples: steps.values.length + activeEnergy.values.length + workouts.length,
      daysWithData: dayHasData.filter(Boolean).length,
      days: days.length,
      sufficient: true,
    },
  };
}
