import { describe, expect, it } from "vitest";
import { bloodPressureCategory, bloodPressureSection } from "../../src/narratives/sections/blood-pressure";
import type { NarrativeData, NarrativeSection } from "../../src/narratives/types";
import { HOUR, narrativeData } from "../support/narrative-data";
import { bloodPressureOnce, bloodPressureWeek, M0, MONDAY } from "../support/narrative-fixtures";

function section(data: NarrativeData): NarrativeSection {
  const s = bloodPressureSection(data);
  if (s === null) throw new Error("no blood pressure section");
  return s;
}

function flagOf(s: NarrativeSection, code: string) {
  return s.figures.find((f) => f.code === code)?.flag;
}

describe("blood pressure: ACC/AHA 2017 categories at their boundaries", () => {
  it.each([
    [119, 79, "normal"],
    [120, 79, "elevated"],
    [129, 79, "elevated"],
    [130, 79, "stage 1 hypertension"],
    [129, 80, "stage 1 hypertension"],
    [139, 89, "stage 1 hypertension"],
    [140, 80, "stage 2 hypertension"],
    [119, 90, "stage 2 hypertension"],
    [181, 100, "stage 2 hypertension"],
  ] as const)("%i/%i mmHg is %s", (sys, dia, category) => {
    expect(bloodPressureCategory(sys, dia)).toBe(category);
    const s = section(bloodPressureOnce(sys, dia));
    expect(s.sentences[0]).toBe(
      `Mean blood pressure ${sys}/${dia} mmHg from 1 reading on 1 day: ${category} by the ACC/AHA 2017 categories.`,
    );
  });

  it("one reading is provisional, and says so", () => {
    const s = section(bloodPressureOnce(119, 79));
    expect(s.sentences).toEqual([
      "Mean blood pressure 119/79 mmHg from 1 reading on 1 day: normal by the ACC/AHA 2017 categories.",
      "The guideline classifies on ≥ 2 readings on ≥ 2 occasions (here, separate days), so this category is provisional.",
    ]);
    expect(s.coverage).toEqual({ samples: 1, daysWithData: 1, days: 1, sufficient: false });
    expect(flagOf(s, "mean_systolic")).toBeUndefined();
    expect(flagOf(s, "readings_above_180_120")).toBeUndefined();
  });

  it("181/100 is in the crisis range: flagged and said factually", () => {
    const s = section(bloodPressureOnce(181, 100));
    expect(s.sentences).toContain("1 reading above 180/120 mmHg (the guideline's hypertensive crisis range).");
    expect(flagOf(s, "readings_above_180_120")).toBe("attention");
    expect(flagOf(s, "mean_systolic")).toBe("high");
    // 180/120 itself is not above 180/120; 150/121 is (diastolic alone).
    expect(flagOf(section(bloodPressureOnce(180, 120)), "readings_above_180_120")).toBeUndefined();
    expect(flagOf(section(bloodPressureOnce(150, 121)), "readings_above_180_120")).toBe("attention");
  });
});

describe("blood pressure: means", () => {
  it("two readings on two days: (128 + 134) / 2 = 131, (82 + 86) / 2 = 84 → stage 1", () => {
    const s = section(bloodPressureWeek());
    expect(s.sentences).toEqual([
      "Mean blood pressure 131/84 mmHg from 2 readings on 2 days: stage 1 hypertension by the ACC/AHA 2017 categories.",
      "Highest reading 134/86 mmHg.",
    ]);
    expect(s.coverage).toEqual({ samples: 2, daysWithData: 2, days: 7, sufficient: true });
  });

  it("categorises the mean as shown: 121/79, 122/79, 124/80 average 122.3/79.3 → 122/79, elevated", () => {
    const s = section(
      narrativeData(MONDAY, {
        bloodPressure: {
          times: [M0 + 8 * HOUR, M0 + 12 * HOUR, M0 + 20 * HOUR],
          systolic: [121, 122, 124],
          diastolic: [79, 79, 80],
        },
      }),
    );
    expect(s.sentences[0]).toBe(
      "Mean blood pressure 122/79 mmHg from 3 readings on 1 day: elevated by the ACC/AHA 2017 categories.",
    );
    // Three readings but one occasion (day): still provisional.
    expect(s.sentences[1]).toContain("provisional");
    expect(s.sentences[2]).toBe("Highest reading 124/80 mmHg.");
  });
});
