import { describe, expect, it } from "vitest";
import { activitySection } from "../../src/narratives/sections/activity";
import { bmiCategory, bodySection } from "../../src/narratives/sections/body";
import type { NarrativeData, NarrativeSection } from "../../src/narratives/types";
import { series } from "../support/narrative-data";
import { activityDay, activityWeek, bodyDay, M0 } from "../support/narrative-fixtures";

function section(build: (d: NarrativeData) => NarrativeSection | null, data: NarrativeData): NarrativeSection {
  const s = build(data);
  if (s === null) throw new Error("no section");
  return s;
}

function figure(s: NarrativeSection, code: string) {
  return s.figures.find((f) => f.code === code);
}

describe("activity", () => {
  it("a day: 3,000 + 4,500 steps, 200 + 150 kcal, runs of 30 and 45 min and a 60-min yoga", () => {
    const s = section(activitySection, activityDay());
    expect(s.sentences).toEqual([
      "7,500 steps.",
      "Active energy 350 kcal.",
      "3 workouts: 2 running (1 h 15 min) and 1 yoga (1 h).",
    ]);
    expect(figure(s, "workouts_running_minutes")?.value).toBe(75);
    expect(figure(s, "workouts_yoga")?.value).toBe(1);
    expect(s.coverage).toEqual({ samples: 7, daysWithData: 1, days: 1, sufficient: true });
  });

  it("a week: per-day steps (a record across midnight counts for the day it started), WHO reference", () => {
    // Mon 5,000 + 3,000 = 8,000; Tue 10,000; Thu 6,000 → 24,000 over 3 days = 8,000 a day.
    // Workouts 3 × 50 = 150 min: within 150–300.
    const s = section(activitySection, activityWeek(150));
    expect(s.sentences).toEqual([
      "24,000 steps in the week, 8,000 a day on average over 3 days with steps.",
      "Daily steps: Mon 8,000, Tue 10,000, Wed none, Thu 6,000, Fri none, Sat none, Sun none.",
      "3 workouts: 3 biking (2 h 30 min).",
      "Workout time 150 min in the week; the WHO reference is 150–300 min/week of moderate-intensity or 75–150 min/week of vigorous-intensity activity, and workout intensity is not recorded here.",
    ]);
    expect(figure(s, "steps_2026-03-03")?.value).toBe(10000);
    expect(figure(s, "workout_minutes")).toMatchObject({
      value: 150,
      reference: "150–300 min/week of moderate-intensity or 75–150 min/week of vigorous-intensity activity (WHO 2020)",
    });
    // Days with data: Mon, Tue, Wed (workout), Thu, Fri (workout) = 5.
    expect(s.coverage).toEqual({ samples: 7, daysWithData: 5, days: 7, sufficient: true });
  });

  it("sets the minutes beside the WHO reference without judging them: intensity is not recorded", () => {
    // 140 min of running meets the vigorous reference (75-150) and misses the moderate one (150-300).
    for (const minutes of [140, 303]) {
      const last = section(activitySection, activityWeek(minutes)).sentences.at(-1) ?? "";
      expect(last).toContain(`Workout time ${minutes} min in the week; the WHO reference is`);
      expect(last).not.toMatch(/below|above|within/);
    }
  });
});

describe("body", () => {
  it("latest weight, change over the day and since the earliest of the 30 days before, BMI", () => {
    // Shown values: 82.04 → 82.0, 80.56 → 80.6, 80.44 → 80.4. Over the day 80.4 − 80.6 = −0.2;
    // since 1 Feb 80.4 − 82.0 = −1.6. BMI 80.4 / 1.75² = 80.4 / 3.0625 = 26.25 → 26.3, overweight.
    const s = section(bodySection, bodyDay());
    expect(s.sentences).toEqual([
      "Weight 80.4 kg (latest of 2 readings; -0.2 kg over the day from 80.6 kg).",
      "Change since the earliest weight of the 30 days before (82.0 kg): -1.6 kg.",
      "BMI 26.3 kg/m² (height 1.75 m): overweight by the WHO categories.",
    ]);
    expect(figure(s, "bmi")).toMatchObject({ value: 26.3, flag: "high" });
    expect(figure(s, "weight_change_30_days")?.value).toBe(-1.6);
    expect(s.coverage).toEqual({ samples: 2, daysWithData: 1, days: 1, sufficient: true });
  });

  it("one weight is '1 reading', not the latest of one", () => {
    const data = bodyDay();
    data.weight = series([[M0 + 8 * 3_600_000, 80.56]]);
    expect(section(bodySection, data).sentences[0]).toBe("Weight 80.6 kg (1 reading).");
  });

  it("without a height there is no BMI, and it says so", () => {
    const s = section(bodySection, bodyDay(null));
    expect(s.sentences.at(-1)).toBe("No height in the data read, so no BMI.");
    expect(figure(s, "bmi")).toBeUndefined();
  });

  it("a weight only in the 30 days before is no body data for the period", () => {
    const data = bodyDay();
    data.weight = series([[M0 - 86_400_000, 80]]);
    expect(bodySection(data)).toBeNull();
  });

  it.each([
    [18.4, "underweight"],
    [18.5, "normal weight"],
    [24.9, "normal weight"],
    [25, "overweight"],
    [29.9, "overweight"],
    [30, "obesity"],
  ] as const)("BMI %s is %s (WHO)", (bmi, category) => {
    expect(bmiCategory(bmi)).toBe(category);
  });
});
