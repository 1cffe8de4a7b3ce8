/**
 * Blood pressure: the mean of the readings and its category by the 2017 ACC/AHA guideline
 * (Whelton et al., Hypertension 2018;71:e13–e115). When systolic and diastolic fall in different
 * categories the higher one applies. The guideline classifies on the average of ≥ 2 readings on
 * ≥ 2 occasions; a local day stands for an occasion here, and the text says when there are fewer.
 */

import { metricUnit } from "../../observations/metrics";
import { countNonZero, countPerDay } from "../series";
import type { NarrativeData, NarrativeSection } from "../types";
import { num, plural, SectionFigures } from "../wording";

/** Canonical unit of the metric registry. */
const MMHG = metricUnit("blood_pressure_systolic");

export type BloodPressureCategory = "normal" | "elevated" | "stage 1 hypertension" | "stage 2 hypertension";

/** The category of one (mean) pressure in whole mmHg. */
export function bloodPressureCategory(systolic: number, diastolic: number): BloodPressureCategory {
  if (systolic >= 140 || diastolic >= 90) return "stage 2 hypertension";
  if (systolic >= 130 || diastolic >= 80) return "stage 1 hypertension";
  if (systolic >= 120) return "elevated";
  return "normal";
}

/** "Hypertensive crisis" range of the guideline: systolic > 180 and/or diastolic > 120. */
export function isCrisisRange(systolic: number, diastolic: number): boolean {
  return systolic > 180 || diastolic > 120;
}

export function bloodPressureSection(data: NarrativeData): NarrativeSection | null {
  const { times, systolic, diastolic } = data.bloodPressure;
  const n = times.length;
  if (n === 0) return null;
  let sumSys = 0;
  let sumDia = 0;
  let crisis = 0;
  let maxSys = 0;
  let maxDia = 0;
  for (let i = 0; i < n; i++) {
    const s = systolic[i] ?? 0;
    const d = diastolic[i] ?? 0;
    sumSys += s;
    sumDia += d;
    if (isCrisisRange(s, d)) crisis++;
    if (s > maxSys || (s === maxSys && d > maxDia)) {
      maxSys = s;
      maxDia = d;
    }
  }
  const daysWithData = countNonZero(countPerDay(times, data.days));

  const figures = new SectionFigures();
  // The category is read from the means as shown (whole mmHg, as pressures are recorded).
  const sys = figures.add(
    {
      code: "mean_systolic",
      label: "Mean systolic pressure",
      unit: MMHG,
      decimals: 0,
      reference: "ACC/AHA 2017: normal < 120, elevated 120–129, stage 1 130–139, stage 2 ≥ 140 mmHg",
      flag: (v) => (v >= 120 ? "high" : undefined),
    },
    sumSys / n,
  );
  const dia = figures.add(
    {
      code: "mean_diastolic",
      label: "Mean diastolic pressure",
      unit: MMHG,
      decimals: 0,
      reference: "ACC/AHA 2017: normal and elevated < 80, stage 1 80–89, stage 2 ≥ 90 mmHg",
      flag: (v) => (v >= 80 ? "high" : undefined),
    },
    sumDia / n,
  );
  const readings = figures.add(
    {
      code: "readings",
      label: "Blood pressure readings",
      unit: "readings",
      decimals: 0,
      reference: "≥ 2 readings on ≥ 2 occasions to classify",
    },
    n,
  );
  const days = figures.add({ code: "days_with_readings", label: "Days with readings", unit: "days", decimals: 0 }, daysWithData);
  const highSys = figures.add(
    { code: "highest_systolic", label: "Reading with the highest systolic, systolic", unit: MMHG, decimals: 0 },
    maxSys,
  );
  const highDia = figures.add(
    { code: "highest_diastolic", label: "Reading with the highest systolic, diastolic", unit: MMHG, decimals: 0 },
    maxDia,
  );
  const crises = figures.add(
    {
      code: "readings_above_180_120",
      label: "Readings above 180/120 mmHg",
      unit: "readings",
      decimals: 0,
      reference: "> 180 and/or > 120 mmHg: hypertensive crisis range (ACC/AHA 2017)",
      flag: (v) => (v > 0 ? "attention" : undefined),
    },
    crisis,
  );

  const category = bloodPressureCategory(sys, dia);
  const sentences = [
    `Mean blood pressure ${num(sys)}/${num(dia)} mmHg from ${num(readings)} ${plural(readings, "reading")} on ${num(days)} ${plural(days, "day")}: ${category} by the ACC/AHA 2017 categories.`,
  ];
  if (readings < 2 || days < 2) {
    sentences.push(
      "The guideline classifies on ≥ 2 readings on ≥ 2 occasions (here, separate days), so this category is provisional.",
    );
  }
  if (n > 1) sentences.push(`Highest reading ${num(highSys)}/${num(highDia)} mmHg.`);
  if (crises > 0) {
    sentences.push(`${num(crises)} ${plural(crises, "reading")} above 180/120 mmHg (the guideline's hypertensive crisis range).`);
  }
  return {
    domain: "blood_pressure",
    title: "Blood pressure",
    sentences,
    figures: figures.list,
    coverage: { samples: n, daysWithData, days: data.days.length, sufficient: readings >= 2 && days >= 2 },
  };
}
