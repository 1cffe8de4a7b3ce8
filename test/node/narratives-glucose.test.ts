import { describe, expect, it } from "vitest";
import { glucoseSection, hypoglycaemicEvents, sensorIntervalMinutes } from "../../src/narratives/sections/glucose";
import type { NarrativeSection } from "../../src/narratives/types";
import { MINUTE, narrativeData, regularSeries, series, utcDays } from "../support/narrative-data";
import {
  BERLIN_AUTUMN_DAY,
  BERLIN_SPRING_DAY,
  BERLIN_SPRING_WEEK,
  glucoseDay,
  glucoseEverywhere,
  glucoseFingersticks,
  glucoseHalfDay,
  M0,
  MONDAY,
} from "../support/narrative-fixtures";

function figure(section: NarrativeSection | null, code: string) {
  const f = section?.figures.find((x) => x.code === code);
  if (f === undefined) throw new Error(`no figure ${code}`);
  return f;
}

function dayLength(days: { start: number; end: number }[], i: number): number {
  return (days[i]?.end ?? 0) - (days[i]?.start ?? 0);
}

function section(data: Parameters<typeof glucoseSection>[0]): NarrativeSection {
  const s = glucoseSection(data);
  if (s === null) throw new Error("no glucose section");
  return s;
}

describe("glucose: a full CGM day", () => {
  // 288 readings every 5 min: 100×12, 60×4, 50×4, 100×196, 200×40, 260×8, 100×24.
  const s = section(glucoseDay());

  it("reads the consensus metrics off the readings", () => {
    // Sum = 100×232 + 60×4 + 50×4 + 200×40 + 260×8 = 23,200 + 240 + 200 + 8,000 + 2,080 = 33,720;
    // mean = 33,720 / 288 = 117.08 → 117 mg/dL. GMI = 3.31 + 0.02392 × 117 = 6.109 → 6.1 %.
    // Σx² = 100²×232 + 60²×4 + 50²×4 + 200²×40 + 260²×8 = 4,485,200; n·mean² = 33,720² / 288 = 3,948,050;
    // SD = √((4,485,200 − 3,948,050) / 287) = √1,871.64 = 43.26 → 43; CV = 43.262 / 117.083 = 36.95 % → 36.9.
    expect(figure(s, "mean_glucose").value).toBe(117);
    expect(figure(s, "gmi").value).toBe(6.1);
    expect(figure(s, "sd_glucose").value).toBe(43);
    expect(figure(s, "cv")).toMatchObject({ value: 36.9, flag: "attention" });
    // In range 70–180: 232 / 288 = 80.56 %; below 70: 8 / 288 = 2.78 %; below 54: 4 / 288 = 1.39 %;
    // above 180: 48 / 288 = 16.67 %; above 250: 8 / 288 = 2.78 %.
    expect(figure(s, "time_in_range")).toMatchObject({ value: 80.6, reference: "70–180 mg/dL, target > 70 %" });
    expect(figure(s, "time_in_range").flag).toBeUndefined();
    expect(figure(s, "time_below_70").value).toBe(2.8);
    expect(figure(s, "time_below_70").flag).toBeUndefined();
    expect(figure(s, "time_below_54")).toMatchObject({ value: 1.4, flag: "high" });
    expect(figure(s, "time_above_180").value).toBe(16.7);
    expect(figure(s, "time_above_250").value).toBe(2.8);
    // The 8 readings below 70 are one 40-minute run: one event.
    expect(figure(s, "hypoglycaemic_events")).toMatchObject({ value: 1, flag: "attention" });
    expect(figure(s, "sensor_interval").value).toBe(5);
    expect(figure(s, "expected_readings").value).toBe(288);
    expect(s.coverage).toEqual({ samples: 288, daysWithData: 1, days: 1, percent: 100, sufficient: true });
  });

  it("says it in sentences a clinician can scan", () => {
    expect(s.sentences).toEqual([
      "Mean glucose 117 mg/dL (GMI 6.1 %), coefficient of variation 36.9 %, above the 36 % threshold for stable glucose, from 288 CGM readings (100.0 % of expected).",
      "Time in range (70–180 mg/dL) 80.6 % (target > 70 %); below 70 mg/dL 2.8 % (target < 4 %), below 54 mg/dL 1.4 % (< 1 %); above 180 mg/dL 16.7 % (< 25 %), above 250 mg/dL 2.8 % (< 5 %).",
      "Outside the consensus targets: below 54 mg/dL.",
      "1 hypoglycaemic event (≥ 15 min below 70 mg/dL).",
    ]);
  });
});

describe("glucose: data sufficiency", () => {
  it("states the ≥ 70 % rule first when half the day's readings are missing", () => {
    // 144 of 288 expected = 50.0 %.
    const s = section(glucoseHalfDay());
    expect(s.sentences[0]).toBe(
      "Only 50.0 % of the expected CGM readings are present (144 of 288), short of the ≥ 70 % the consensus asks for: the figures below are indicative only.",
    );
    expect(s.coverage).toEqual({ samples: 144, daysWithData: 1, days: 1, percent: 50, sufficient: false });
    expect(figure(s, "cgm_data_sufficiency")).toMatchObject({ value: 50, flag: "low" });
    // Every reading is 120: all in range, CV 0.
    expect(figure(s, "time_in_range").value).toBe(100);
    expect(figure(s, "cv").value).toBe(0);
  });

  it("is sufficient at exactly 70 % (202 of 288 = 70.14 %) and not at 201 (69.79 %)", () => {
    const at = (n: number) =>
      section(
        narrativeData(MONDAY, {
          glucose: series(Array.from({ length: n }, (_, i) => [M0 + i * 5 * MINUTE, 120] as [number, number])),
        }),
      );
    expect(at(202).coverage).toMatchObject({ percent: 70.1, sufficient: true });
    expect(at(201).coverage).toMatchObject({ percent: 69.8, sufficient: false });
  });

  it("expects 276 readings on the 23-hour spring-forward day and 300 on the 25-hour autumn day", () => {
    // 23 h × 12 readings an hour = 276; 25 h × 12 = 300.
    const spring = section(glucoseEverywhere(BERLIN_SPRING_DAY));
    expect(dayLength(BERLIN_SPRING_DAY, 0)).toBe(23 * 60 * MINUTE);
    expect(figure(spring, "expected_readings").value).toBe(276);
    expect(spring.coverage).toEqual({ samples: 276, daysWithData: 1, days: 1, percent: 100, sufficient: true });
    const autumn = section(glucoseEverywhere(BERLIN_AUTUMN_DAY));
    expect(figure(autumn, "expected_readings").value).toBe(300);
    expect(autumn.coverage).toMatchObject({ samples: 300, percent: 100, sufficient: true });
  });

  it("expects 6 × 288 + 276 = 2,004 readings over the week with the spring-forward day", () => {
    const week = section(glucoseEverywhere(BERLIN_SPRING_WEEK));
    expect(figure(week, "expected_readings").value).toBe(2004);
    expect(week.coverage).toEqual({ samples: 2004, daysWithData: 7, days: 7, percent: 100, sufficient: true });
    // Only the DST day worn: 276 / 2,004 = 13.77 % → insufficient for the week.
    const dstOnly = glucoseEverywhere(BERLIN_SPRING_WEEK);
    const dayStart = BERLIN_SPRING_WEEK[6]?.start ?? 0;
    const from = dstOnly.glucose.times.findIndex((t) => t >= dayStart);
    dstOnly.glucose = { times: dstOnly.glucose.times.slice(from), values: dstOnly.glucose.values.slice(from) };
    const partial = section(dstOnly);
    expect(partial.coverage).toEqual({ samples: 276, daysWithData: 1, days: 7, percent: 13.8, sufficient: false });
    expect(partial.sentences[0]).toContain("Only 13.8 % of the expected CGM readings are present (276 of 2,004)");
  });
});

describe("glucose: meter readings", () => {
  it("reads four fingersticks as readings, without CGM metrics", () => {
    // Mean (65 + 140 + 190 + 105) / 4 = 125; one below 70 (65), one above 180 (190).
    const s = section(glucoseFingersticks());
    expect(s.sentences).toEqual([
      "4 glucose readings (no continuous monitoring, so no CGM metrics): mean 125 mg/dL, lowest 65 mg/dL, highest 190 mg/dL.",
      "1 reading below 70 mg/dL and 1 above 180 mg/dL.",
    ]);
    expect(s.figures.map((f) => f.code)).not.toContain("gmi");
    expect(s.figures.map((f) => f.code)).not.toContain("time_in_range");
    expect(figure(s, "readings_below_70")).toMatchObject({ value: 1, flag: "attention" });
    expect(s.coverage).toEqual({ samples: 4, daysWithData: 1, days: 1, sufficient: true });
  });
});

describe("glucose: hypoglycaemic events", () => {
  const t = (minutes: number[]) => minutes.map((m) => m * MINUTE);
  const run = (values: number[]) => values.map((_, i) => i);

  it("needs 15 minutes below 70: 14 one-minute readings are none, 15 are one", () => {
    const fourteen = [...new Array(14).fill(60), 100, 100];
    const fifteen = [...new Array(15).fill(60), 100, 100];
    expect(hypoglycaemicEvents(t(run(fourteen)), fourteen, 1)).toBe(0);
    expect(hypoglycaemicEvents(t(run(fifteen)), fifteen, 1)).toBe(1);
  });

  it("with 5-minute readings, 2 below (10 min) are none and 3 (15 min) are one", () => {
    expect(hypoglycaemicEvents(t([0, 5, 10, 15]), [65, 65, 100, 100], 5)).toBe(0);
    expect(hypoglycaemicEvents(t([0, 5, 10, 15]), [65, 65, 65, 100], 5)).toBe(1);
  });

  it("bridges a gap of 10 minutes inside a run (readings at 0, 5 and 15 min: 20 min below)", () => {
    expect(hypoglycaemicEvents(t([0, 5, 15, 20]), [65, 65, 65, 100], 5)).toBe(1);
  });

  it("does not bridge a 20-minute gap: two 10-minute runs are no event", () => {
    expect(hypoglycaemicEvents(t([0, 5, 25, 30, 35]), [65, 65, 65, 65, 100], 5)).toBe(0);
  });

  it("ends an event only after 15 minutes at ≥ 70", () => {
    // 20 min below, 10 min above, 20 min below: one event. With 15 min above in between: two.
    const oneEvent = [65, 65, 65, 65, 100, 100, 65, 65, 65, 65];
    expect(hypoglycaemicEvents(t(oneEvent.map((_, i) => i * 5)), oneEvent, 5)).toBe(1);
    const twoEvents = [65, 65, 65, 65, 100, 100, 100, 65, 65, 65, 65];
    expect(hypoglycaemicEvents(t(twoEvents.map((_, i) => i * 5)), twoEvents, 5)).toBe(2);
  });

  it("infers the sensor interval as the median gap, whatever the missing stretches", () => {
    // Gaps 5, 5, 5, 60, 5 min: the median is 5.
    expect(sensorIntervalMinutes(t([0, 5, 10, 15, 75, 80]))).toBe(5);
    // One-minute sensor with jitter of a few seconds.
    expect(sensorIntervalMinutes([0, 61_000, 119_000, 180_000])).toBe(1);
    // Each reading stored twice (two sources): gaps 0, 5, 0, 5, 0 min still give 5, not 0.
    expect(sensorIntervalMinutes(t([0, 0, 5, 5, 10, 10]))).toBe(5);
    expect(sensorIntervalMinutes(t([0]))).toBe(0);
  });
});

describe("glucose: a week in progress", () => {
  // Monday 2026-03-02 to Sunday; "now" is Wednesday 12:00 UTC: 2.5 days of a reading every 5 min.
  const week = utcDays("2026-03-02", 7);
  const start = week[0]?.start ?? 0;
  const now = start + 2.5 * 24 * 60 * MINUTE;
  const glucose = regularSeries(start, now, 5, () => 110);
  const inProgress = section(narrativeData(week, { glucose, observable: { since: start, until: now } }));

  it("counts the readings expected up to now, not for days that have not happened", () => {
    // 2.5 days × 288 = 720 expected, 720 present: 100 %, sufficient.
    expect(figure(inProgress, "expected_readings").value).toBe(720);
    expect(figure(inProgress, "cgm_data_sufficiency").value).toBe(100);
    expect(inProgress.coverage.sufficient).toBe(true);
    expect(inProgress.sentences[0]).toContain("(100.0 % of expected so far)");
  });

  it("counted over the whole week, the same readings are short of the 70 % rule", () => {
    // 720 of 7 × 288 = 2,016: 35.7 %.
    const whole = section(narrativeData(week, { glucose }));
    expect(figure(whole, "expected_readings").value).toBe(2_016);
    expect(figure(whole, "cgm_data_sufficiency").value).toBe(35.7);
    expect(whole.sentences[0]).toMatch(/^Only 35\.7 % of the expected CGM readings are present \(720 of 2,016\)/);
  });

  it("cut to a grant's period, counts the readings expected in that period and says so", () => {
    // Shared from Tuesday 00:00: 2 days to Thursday 00:00 of readings → 576 expected, 576 present.
    const since = start + 24 * 60 * MINUTE;
    const until = start + 3 * 24 * 60 * MINUTE;
    const shared = section(
      narrativeData(week, { glucose: regularSeries(since, until, 5, () => 110), observable: { since, until } }),
    );
    expect(figure(shared, "expected_readings").value).toBe(576);
    expect(shared.sentences[0]).toContain("(100.0 % of expected in the period shared)");
  });
});
