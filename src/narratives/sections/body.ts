/**
 * Body: the latest weight, its change over the period and against the earliest weight of the 30
 * days before, and the BMI (kg/m²) with its WHO category (WHO, Obesity: preventing and managing
 * the global epidemic, TRS 894, 2000) when a height is stored. Changes and the BMI are computed
 * from the values as shown, so a reader can redo the arithmetic.
 */
import { metricUnit } from "../../observations/metrics";
import type { NarrativeData, NarrativeSection } from "../types";
import { num, SectionFigures, signed } from "../wording";

/** Canonical units of the metric registry. */
const KG = metricUnit("weight");
const M = metricUnit("height");

export type BmiCategory = "underweight" | "normal weight" | "overweight" | "obesity";

/** WHO adult categories: < 18.5, 18.5–24.9, 25–29.9, ≥ 30 (on the BMI rounded to 1 decimal). */
export function bmiCategory(bmi: number): BmiCategory {
  if (bmi < 18.5) return "underweight";
  if (bmi < 25) return "normal weight";
  if (bmi < 30) return "overweight";
  return "obesity";
}

export function bodySection(data: NarrativeData): NarrativeSection | null {
  const { times, values } = data.weight;
  let first = 0;
  while (first < times.length && (times[first] ?? 0) < data.start) first++;
  let last = times.length - 1;
  while (last >= first && (times[last] ?? 0) >= data.end) last--;
  const k = last - first + 1;
  if (k <= 0) return null;

  const figures = new SectionFigures();
  const sentences: string[] = [];
  const period = data.period === "week" ? "week" : "day";
  const latest = figures.add({ code: "weight", label: "Weight, latest", unit: KG, decimals: 1 }, values[last] ?? 0);
  const readings = figures.add(
    { code: "weight_readings", label: "Weight readings in the period", unit: "readings", decimals: 0 },
    k,
  );
  let sentence = `Weight ${num(latest, 1)} kg (${readings === 1 ? "1 reading" : `latest of ${num(readings)} readings`}`;
  if (k >= 2) {
    const start = figures.add(
      { code: "weight_first", label: "Weight, first of the period", unit: KG, decimals: 1 },
      values[first] ?? 0,
    );
    const change = figures.add(
      { code: "weight_change", label: `Weight change over the ${period}`, unit: KG, decimals: 1 },
      latest - start,
    );
    sentence += `; ${signed(change, 1)} kg over the ${period} from ${num(start, 1)} kg`;
  }
  sentences.push(`${sentence}).`);

  if (first > 0) {
    const earliest = figures.add(
      {
        code: "weight_before",
        label: "Weight, earliest of the 30 days before",
        unit: KG,
        decimals: 1,
        reference: "earliest weight of the 30 days before the period",
      },
      values[0] ?? 0,
    );
    const change = figures.add(
      { code: "weight_change_30_days", label: "Weight change since the earliest of the 30 days before", unit: KG, decimals: 1 },
      latest - earliest,
    );
    // A sentence never opens on a signed number: the change follows what it is measured from.
    sentences.push(`Change since the earliest weight of the 30 days before (${num(earliest, 1)} kg): ${signed(change, 1)} kg.`);
  }

  if (data.heightMetres === null) {
    sentences.push("No height in the data read, so no BMI.");
  } else {
    const height = figures.add({ code: "height", label: "Height, latest stored", unit: M, decimals: 2 }, data.heightMetres);
    const bmi = figures.add(
      {
        code: "bmi",
        label: "Body mass index",
        unit: "kg/m²",
        decimals: 1,
        reference: "18.5–24.9 normal weight (WHO): < 18.5 underweight, 25–29.9 overweight, ≥ 30 obesity",
        flag: (v) => (v < 18.5 ? "low" : v >= 25 ? "high" : undefined),
      },
      height > 0 ? latest / (height * height) : 0,
    );
    sentences.push(`BMI ${num(bmi, 1)} kg/m² (height ${num(height, 2)} m): ${bmiCategory(bmi)} by the WHO categories.`);
  }

  return {
    domain: "body",
    title: "Body",
    sentences,
    figures: figures.list,
    coverage: { samples: k, daysWithData: daysWith(times, first, last, data), days: data.days.length, sufficient: true },
  };
}

function daysWith(times: readonly number[], first: number, last: number, data: NarrativeData): number {
  let n = 0;
  for (const day of data.days) {
    for (let i = first; i <= last; i++) {
      const t = times[i] ?? 0;
      if (t >= day.start && t < day.end) {
        n++;
        break;
      }
    }
  }
  return n;
}
