import { describe, expect, it } from "vitest";
import { clockTimeStats, sleepSection } from "../../src/narratives/sections/sleep";
import type { NarrativeData, NarrativeSection } from "../../src/narratives/types";
import { sleepDay, sleepWeek } from "../support/narrative-fixtures";

function section(data: NarrativeData): NarrativeSection {
  const s = sleepSection(data);
  if (s === null) throw new Error("no sleep section");
  return s;
}

function value(s: NarrativeSection, code: string) {
  return s.figures.find((f) => f.code === code)?.value;
}

describe("sleep: clock times on the 24-hour circle", () => {
  it("23:30 and 00:30 average to 00:00 and are an hour apart (SD √((30² + 30²) / 1) = 42.4 min)", () => {
    const { mean, sd } = clockTimeStats([23 * 60 + 30, 30]);
    // A linear mean would say 12:00 and an SD of 997 min.
    expect(Math.min(mean, 1440 - mean)).toBeCloseTo(0, 6);
    expect(sd).toBeCloseTo(Math.sqrt(1800), 6);
  });

  it("23:00, 00:00, 01:00: mean 00:00, SD √((60² + 0 + 60²) / 2) = 60 min", () => {
    const { mean, sd } = clockTimeStats([1380, 0, 60]);
    expect(Math.min(mean, 1440 - mean)).toBeCloseTo(0, 6);
    expect(sd).toBeCloseTo(60, 6);
  });

  it("times away from midnight read as usual: 07:00, 07:20, 07:40 → 07:20 ± 20 min", () => {
    const { mean, sd } = clockTimeStats([420, 440, 460]);
    expect(mean).toBeCloseTo(440, 6);
    expect(sd).toBeCloseTo(20, 6);
  });
});

describe("sleep: one night", () => {
  it("in bed 480 min, asleep 432 (90.0 %), stages 240 / 96 / 96 / 48 of 480", () => {
    const s = section(sleepDay());
    expect(s.sentences).toEqual([
      "8 h in bed and 7 h 12 min asleep: efficiency 90.0 % (reference ≥ 85 %).",
      "Stages (share of staged time): light 4 h (50.0 %), deep 1 h 36 min (20.0 %), REM 1 h 36 min (20.0 %), awake 48 min (10.0 %).",
      "Bedtime 23:00, wake time 07:00.",
    ]);
    expect(value(s, "time_in_bed")).toBe(480);
    expect(value(s, "time_asleep")).toBe(432);
    expect(value(s, "sleep_efficiency")).toBe(90);
    expect(value(s, "stage_rem_share")).toBe(20);
    expect(value(s, "bedtime")).toBe(1380);
    expect(s.coverage).toEqual({ samples: 1, daysWithData: 1, days: 1, sufficient: true });
  });

  it("flags efficiency below 85 %: 400 of 480 min = 83.3 %", () => {
    const data = sleepDay();
    const night = data.sleep[0];
    if (night !== undefined) night.asleepMinutes = 400;
    const s = section(data);
    expect(s.figures.find((f) => f.code === "sleep_efficiency")).toMatchObject({ value: 83.3, flag: "low" });
  });
});

describe("sleep: a week", () => {
  const s = section(sleepWeek());

  it("averages per night, with Tuesday's nap added to Tuesday", () => {
    // Nights: Mon 480 in bed / 420 asleep; Tue 420 + 30 (nap) = 450 / 390 + 30 = 420; Wed 450 / 405.
    // In bed (480 + 450 + 450) / 3 = 460 = 7 h 40 min; asleep (420 + 420 + 405) / 3 = 415 = 6 h 55 min;
    // efficiency 1,245 / 1,380 = 90.22 % → 90.2.
    expect(value(s, "nights")).toBe(3);
    expect(value(s, "time_in_bed")).toBe(460);
    expect(value(s, "time_asleep")).toBe(415);
    expect(value(s, "sleep_efficiency")).toBe(90.2);
    // Stages over the 2 staged nights: light 420, deep 180, REM 180, awake 120 of 900 →
    // per night 210 / 90 / 90 / 60 min; shares 46.67 / 20 / 20 / 13.33 %.
    expect(value(s, "stage_light_minutes")).toBe(210);
    expect(value(s, "stage_light_share")).toBe(46.7);
    expect(value(s, "stage_awake_share")).toBe(13.3);
    // Bedtimes of the main sessions 23:30, 00:30, 00:00 (the nap's 14:00 is not one): mean 00:00,
    // deviations −30, +30, 0 → SD √(1,800 / 2) = 30. Wake 07:00, 07:20, 07:40 → 07:20 ± 20.
    expect(value(s, "bedtime")).toBe(0);
    expect(value(s, "bedtime_sd")).toBe(30);
    expect(value(s, "wake_time")).toBe(440);
    expect(value(s, "wake_time_sd")).toBe(20);
    expect(s.coverage).toEqual({ samples: 4, daysWithData: 3, days: 7, sufficient: true });
  });

  it("says it in sentences", () => {
    expect(s.sentences).toEqual([
      "3 nights recorded; per night on average 7 h 40 min in bed and 6 h 55 min asleep: efficiency 90.2 % (reference ≥ 85 %).",
      "Stages per night (over the 2 nights with stages; share of staged time): light 3 h 30 min (46.7 %), deep 1 h 30 min (20.0 %), REM 1 h 30 min (20.0 %), awake 1 h (13.3 %).",
      "Bedtime 00:00 ± 30 min, wake time 07:20 ± 20 min (mean ± SD over 3 nights).",
    ]);
  });

  it("no stages recorded is said", () => {
    const data = sleepWeek();
    for (const night of data.sleep) night.stageMinutes = {};
    expect(section(data).sentences[1]).toBe("No sleep stages recorded.");
  });
});

describe("sleep: a week with one night", () => {
  it("says '1 night recorded', not an average per night", () => {
    const data = sleepWeek();
    data.sleep = data.sleep.slice(0, 1);
    // The first night: 480 min in bed, 420 asleep (87.5 %).
    expect(sleepSection(data)?.sentences[0]).toBe(
      "1 night recorded, with 8 h in bed and 7 h asleep: efficiency 87.5 % (reference ≥ 85 %).",
    );
  });
});
