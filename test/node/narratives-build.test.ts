import { afterEach, describe, expect, it, vi } from "vitest";
import { buildNarrative } from "../../src/narratives/build";
import { NARRATIVE_DOMAINS, type NarrativeFigure, type NarrativeSection } from "../../src/narratives/types";
import { fullWeek, narrativeData } from "../support/narrative-data";
import { ALL_FIXTURES, BERLIN_SPRING_WEEK, bloodPressureOnce, MONDAY } from "../support/narrative-fixtures";

const CLOCK = /\b(\d{2}):(\d{2})\b/g;
const DURATION = /\b(\d+) h(?: (\d+) min)?\b|\b(\d+) min\b/g;
// A number not glued to a word (so "SpO2" is no number), with an optional minus and thousands separators.
const NUMBER = /(?<![\w.,])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d])|(?<![\w.,])-?\d+(?:\.\d+)?(?![\d])/g;

function numbersIn(text: string): number[] {
  return [...text.matchAll(NUMBER)].map((m) => Number(m[0].replaceAll(",", "")));
}

/**
 * The numbers a sentence states that are neither a figure's value nor in a figure's reference.
 * Clock times are matched against the figures in minutes after midnight, durations against the
 * figures in minutes.
 */
function strayNumbers(sentence: string, figures: NarrativeFigure[]): string[] {
  const values = new Set(figures.map((f) => f.value).filter((v): v is number => v !== null));
  const references = new Set(figures.flatMap((f) => (f.reference === undefined ? [] : numbersIn(f.reference))));
  const clockValues = new Set(figures.filter((f) => f.unit === "min after local midnight").map((f) => f.value));
  const minuteValues = new Set(figures.filter((f) => f.unit === "min").map((f) => f.value));
  const stray: string[] = [];
  let rest = sentence.replace(CLOCK, (all, h: string, m: string) => {
    if (!clockValues.has(Number(h) * 60 + Number(m))) stray.push(all);
    return " ";
  });
  rest = rest.replace(DURATION, (all, h?: string, hm?: string, m?: string) => {
    const minutes = h !== undefined ? Number(h) * 60 + Number(hm ?? 0) : Number(m);
    if (!minuteValues.has(minutes) && !references.has(minutes)) stray.push(all);
    return " ";
  });
  for (const m of rest.matchAll(NUMBER)) {
    const value = Number(m[0].replaceAll(",", ""));
    if (!values.has(value) && !references.has(value)) stray.push(m[0]);
  }
  return stray;
}

function sectionsOf(name: string): NarrativeSection[] {
  const build = ALL_FIXTURES[name];
  if (build === undefined) throw new Error(name);
  return buildNarrative(build()).sections;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("narrative: sections and absent domains", () => {
  it("an empty period has no sections and lists every domain as without data", () => {
    const n = buildNarrative(narrativeData(MONDAY));
    expect(n.sections).toEqual([]);
    expect(n.noData).toEqual([...NARRATIVE_DOMAINS]);
    expect(n).toMatchObject({ period: "day", date: "2026-03-02", endDate: "2026-03-02", timeZone: "UTC" });
  });

  it("a day with only blood pressure has that one section; the rest are listed, in order", () => {
    const n = buildNarrative(bloodPressureOnce(125, 75));
    expect(n.sections.map((s) => s.domain)).toEqual(["blood_pressure"]);
    expect(n.noData).toEqual(["glucose", "heart", "sleep", "activity", "body"]);
  });

  it("a full week has every section in domain order, with short titles", () => {
    const n = buildNarrative(fullWeek());
    expect(n.sections.map((s) => s.domain)).toEqual([...NARRATIVE_DOMAINS]);
    expect(n.sections.map((s) => s.title)).toEqual(["Glucose", "Heart", "Blood pressure", "Sleep", "Activity", "Body"]);
    expect(n.noData).toEqual([]);
    expect(n).toMatchObject({ period: "week", date: "2026-03-02", endDate: "2026-03-08" });
  });

  it("the Berlin week ending on the spring-forward day: 23-hour last day, 2,004 expected CGM readings", () => {
    const n = buildNarrative(fullWeek("2026-03-23", BERLIN_SPRING_WEEK));
    expect(n.endDate).toBe("2026-03-29");
    expect(n.end - n.start).toBe((7 * 24 - 1) * 3_600_000);
    const glucose = n.sections.find((s) => s.domain === "glucose");
    // Every 5 min over 167 hours: 167 × 12 = 2,004 readings of 2,004 expected.
    expect(glucose?.figures.find((f) => f.code === "expected_readings")?.value).toBe(2004);
    expect(glucose?.coverage).toEqual({ samples: 2004, daysWithData: 7, days: 7, percent: 100, sufficient: true });
  });
});

describe("narrative: properties of every fixture", () => {
  it.each(Object.keys(ALL_FIXTURES))("%s: every number in a sentence is one of the section's figures", (name) => {
    for (const section of sectionsOf(name)) {
      for (const sentence of section.sentences) {
        expect({ sentence, stray: strayNumbers(sentence, section.figures) }).toEqual({ sentence, stray: [] });
      }
    }
  });

  it.each(Object.keys(ALL_FIXTURES))("%s: figures have unique codes, a unit and rounded values", (name) => {
    for (const section of sectionsOf(name)) {
      const codes = section.figures.map((f) => f.code);
      expect(new Set(codes).size).toBe(codes.length);
      for (const f of section.figures) {
        expect(f.code).toMatch(/^[a-z0-9_-]+$/);
        expect(f.unit.length).toBeGreaterThan(0);
        if (f.value !== null) expect(Number.isFinite(f.value) && Math.round(f.value * 100) / 100 === f.value).toBe(true);
      }
    }
  });

  it("catches a stray number (the checker itself can fail)", () => {
    const figures: NarrativeFigure[] = [{ code: "x", label: "x", value: 12, unit: "min", reference: "> 100 bpm" }];
    expect(strayNumbers("12 min above 100 bpm.", figures)).toEqual([]);
    expect(strayNumbers("13 min above 100 bpm at 07:00, SpO2 fine.", figures)).toEqual(["07:00", "13 min"]);
    expect(strayNumbers("1,200 steps, -3.5 kg.", figures)).toEqual(["1,200", "-3.5"]);
  });

  it.each(Object.keys(ALL_FIXTURES))(
    "%s: the same data gives the identical narrative, with no clock or randomness, input untouched",
    (name) => {
      const build = ALL_FIXTURES[name];
      if (build === undefined) throw new Error(name);
      const data = build();
      const before = structuredClone(data);
      const first = JSON.stringify(buildNarrative(data));
      // The input is left as it was (sections sort copies, never the caller's arrays).
      expect(data).toEqual(before);
      vi.spyOn(Date, "now").mockImplementation(() => {
        throw new Error("Date.now called");
      });
      vi.spyOn(Math, "random").mockImplementation(() => {
        throw new Error("Math.random called");
      });
      expect(JSON.stringify(buildNarrative(build()))).toBe(first);
    },
  );
});
