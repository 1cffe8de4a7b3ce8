/**
 * Small fixed periods the narrative tests check by hand (the arithmetic is in the tests), and the
 * list of every fixture for the properties that must hold on all of them.
 */
import type { NarrativeData } from "../../src/narratives/types";
import {
  DAY,
  fullWeek,
  HOUR,
  intervals,
  localDays,
  MINUTE,
  narrativeData,
  regularSeries,
  series,
  sleepSession,
  utcDays,
  workout,
} from "./narrative-data";

/** Monday 2026-03-02, UTC. */
export const MONDAY = utcDays("2026-03-02", 1);
export const M0 = MONDAY[0]?.start ?? 0;
/** Monday 2026-03-02 to Sunday 2026-03-08, UTC. */
export const WEEK = utcDays("2026-03-02", 7);
/** Europe/Berlin's spring-forward day: 2026-03-29 starts at +01:00 and ends at +02:00 (23 hours). */
export const BERLIN_SPRING_DAY = localDays("2026-03-29", [60, 120]);
/** The Berlin week Monday 2026-03-23 to Sunday 2026-03-29, its last day 23 hours. */
export const BERLIN_SPRING_WEEK = localDays("2026-03-23", [60, 60, 60, 60, 60, 60, 60, 120]);
/** Europe/Berlin's fall-back day: 2026-10-25 starts at +02:00 and ends at +01:00 (25 hours). */
export const BERLIN_AUTUMN_DAY = localDays("2026-10-25", [120, 60]);

/** Blocks of CGM values every 5 minutes from the start of the day: [value, readings]. */
function cgm(start: number, blocks: [number, number][]) {
  const points: [number, number][] = [];
  let t = start;
  for (const [value, count] of blocks) {
    for (let i = 0; i < count; i++, t += 5 * MINUTE) points.push([t, value]);
  }
  return series(points);
}

/** 288 readings every 5 min: 100×12, 60×4, 50×4, 100×196, 200×40, 260×8, 100×24. */
export function glucoseDay(): NarrativeData {
  return narrativeData(MONDAY, {
    glucose: cgm(M0, [
      [100, 12],
      [60, 4],
      [50, 4],
      [100, 196],
      [200, 40],
      [260, 8],
      [100, 24],
    ]),
  });
}

/** 144 readings of 120 mg/dL every 5 min, 00:00–11:55: half a day of CGM. */
export function glucoseHalfDay(): NarrativeData {
  return narrativeData(MONDAY, { glucose: cgm(M0, [[120, 144]]) });
}

/** Four meter readings: 07:00 65, 12:00 140, 18:00 190, 22:00 105 mg/dL. */
export function glucoseFingersticks(): NarrativeData {
  return narrativeData(MONDAY, {
    glucose: series([
      [M0 + 7 * HOUR, 65],
      [M0 + 12 * HOUR, 140],
      [M0 + 18 * HOUR, 190],
      [M0 + 22 * HOUR, 105],
    ]),
  });
}

/** CGM every 5 min over a whole (local) period, 110 mg/dL throughout. */
export function glucoseEverywhere(days: NarrativeData["days"]): NarrativeData {
  const start = days[0]?.start ?? 0;
  const end = days.at(-1)?.end ?? 0;
  return narrativeData(days, { glucose: regularSeries(start, end, 5, () => 110) });
}

/**
 * Heart, one day: HR every minute 00:00–01:59 (60 bpm ×60, 110 ×30, 90 ×30) with a run 01:10–01:20;
 * resting 55, 57, 62; HRV 40, 50 against a baseline of 30, 32, …, 42; SpO2 95, 89, 88, 91, 96 a
 * minute apart from 03:00; respiratory rate 14, 15, 17.
 */
export function heartDay(): NarrativeData {
  return narrativeData(MONDAY, {
    heartRate: regularSeries(M0, M0 + 2 * HOUR, 1, (i) => (i < 60 ? 60 : i < 90 ? 110 : 90)),
    restingHeartRate: series([
      [M0 + 5 * HOUR, 55],
      [M0 + 6 * HOUR, 57],
      [M0 + 7 * HOUR, 62],
    ]),
    hrvRmssd: series([
      [M0 + 4 * HOUR, 40],
      [M0 + 5 * HOUR, 50],
    ]),
    hrvRmssdBaseline: regularSeries(M0 - 28 * DAY, M0 - 21 * DAY, 24 * 60, (i) => 30 + 2 * i),
    oxygenSaturation: series([95, 89, 88, 91, 96].map((v, i) => [M0 + 3 * HOUR + i * MINUTE, v])),
    respiratoryRate: series([
      [M0 + 3 * HOUR, 14],
      [M0 + 4 * HOUR, 15],
      [M0 + 5 * HOUR, 17],
    ]),
    workouts: [
      workout({ start: M0 + 70 * MINUTE, end: M0 + 80 * MINUTE, peakHeartRate: 150, heartRateTwoMinutesAfter: 130 }),
      workout({ start: M0 + 10 * HOUR, end: M0 + 11 * HOUR, exerciseType: "yoga" }),
    ],
  });
}

/** Two readings on two days: 128/82 (Mon 08:00) and 134/86 (Tue 08:00). */
export function bloodPressureWeek(): NarrativeData {
  const start = WEEK[0]?.start ?? 0;
  return narrativeData(WEEK, {
    bloodPressure: { times: [start + 8 * HOUR, start + DAY + 8 * HOUR], systolic: [128, 134], diastolic: [82, 86] },
  });
}

/** One reading, `systolic`/`diastolic` at 08:00. */
export function bloodPressureOnce(systolic: number, diastolic: number): NarrativeData {
  return narrativeData(MONDAY, { bloodPressure: { times: [M0 + 8 * HOUR], systolic: [systolic], diastolic: [diastolic] } });
}

/** One night 23:00–07:00: 480 min in bed, 432 asleep; light 240, deep 96, REM 96, awake 48. */
export function sleepDay(): NarrativeData {
  return narrativeData(MONDAY, {
    sleep: [
      sleepSession({
        start: M0 - HOUR,
        end: M0 + 7 * HOUR,
        localDate: "2026-03-02",
        inBedMinutes: 480,
        asleepMinutes: 432,
        stageMinutes: { light: 240, deep: 96, rem: 96, awake: 48 },
        bedtimeLocalMinutes: 23 * 60,
        wakeLocalMinutes: 7 * 60,
      }),
    ],
  });
}

/**
 * Three nights: bed 23:30 / 00:30 / 00:00, wake 07:00 / 07:20 / 07:40; in bed 480 / 420 / 450,
 * asleep 420 / 390 / 405; stages on the first two only (light 200/220, deep 100/80, REM 100/80,
 * awake 80/40); plus a 30-minute nap on Tuesday afternoon (in bed and asleep 30, no stages).
 */
export function sleepWeek(): NarrativeData {
  const [mon, tue, wed] = WEEK;
  const at = (day: typeof mon, minutes: number) => (day?.start ?? 0) + minutes * MINUTE;
  return narrativeData(WEEK, {
    sleep: [
      sleepSession({
        start: at(mon, -30),
        end: at(mon, 420),
        localDate: "2026-03-02",
        inBedMinutes: 480,
        asleepMinutes: 420,
        stageMinutes: { light: 200, deep: 100, rem: 100, awake: 80 },
        bedtimeLocalMinutes: 23 * 60 + 30,
        wakeLocalMinutes: 7 * 60,
      }),
      sleepSession({
        start: at(tue, 30),
        end: at(tue, 440),
        localDate: "2026-03-03",
        inBedMinutes: 420,
        asleepMinutes: 390,
        stageMinutes: { light: 220, deep: 80, rem: 80, awake: 40 },
        bedtimeLocalMinutes: 30,
        wakeLocalMinutes: 7 * 60 + 20,
      }),
      sleepSession({
        start: at(tue, 14 * 60),
        end: at(tue, 14 * 60 + 30),
        localDate: "2026-03-03",
        inBedMinutes: 30,
        asleepMinutes: 30,
        bedtimeLocalMinutes: 14 * 60,
        wakeLocalMinutes: 14 * 60 + 30,
      }),
      sleepSession({
        start: at(wed, 0),
        end: at(wed, 460),
        localDate: "2026-03-04",
        inBedMinutes: 450,
        asleepMinutes: 405,
        bedtimeLocalMinutes: 0,
        wakeLocalMinutes: 7 * 60 + 40,
      }),
    ],
  });
}

/** Steps 3,000 (08:00–09:00) and 4,500 (12:00–13:00); energy 200 and 150 kcal; run 30 + 45 min, yoga 60 min. */
export function activityDay(): NarrativeData {
  return narrativeData(MONDAY, {
    steps: intervals([
      [M0 + 8 * HOUR, M0 + 9 * HOUR, 3000],
      [M0 + 12 * HOUR, M0 + 13 * HOUR, 4500],
    ]),
    activeEnergy: intervals([
      [M0 + 8 * HOUR, M0 + 9 * HOUR, 200],
      [M0 + 12 * HOUR, M0 + 13 * HOUR, 150],
    ]),
    workouts: [
      workout({ start: M0 + 7 * HOUR, end: M0 + 7 * HOUR + 30 * MINUTE }),
      workout({ start: M0 + 17 * HOUR, end: M0 + 17 * HOUR + 45 * MINUTE }),
      workout({ start: M0 + 19 * HOUR, end: M0 + 20 * HOUR, exerciseType: "yoga" }),
    ],
  });
}

/**
 * Steps Mon 8,000 (5,000 + 3,000 of a record 23:30 Mon – 00:30 Tue, counted on Monday),
 * Tue 10,000, Thu 6,000; no energy; `workoutMinutes` split into three equal biking workouts.
 */
export function activityWeek(workoutMinutes = 150): NarrativeData {
  const day = (i: number) => WEEK[i]?.start ?? 0;
  const each = (workoutMinutes / 3) * MINUTE;
  return narrativeData(WEEK, {
    steps: intervals([
      [day(0) + 10 * HOUR, day(0) + 11 * HOUR, 5000],
      [day(0) + 23.5 * HOUR, day(1) + 0.5 * HOUR, 3000],
      [day(1) + 10 * HOUR, day(1) + 11 * HOUR, 10000],
      [day(3) + 10 * HOUR, day(3) + 11 * HOUR, 6000],
    ]),
    workouts: [0, 2, 4].map((d) =>
      workout({ start: day(d) + 18 * HOUR, end: day(d) + 18 * HOUR + each, exerciseType: "biking" }),
    ),
  });
}

/**
 * Weight 82.04 kg on 2026-02-01 (in the 30 days before), 80.56 at 08:00 and 80.44 at 20:00 on
 * the day; height 1.75 m.
 */
export function bodyDay(heightMetres: number | null = 1.75): NarrativeData {
  return narrativeData(MONDAY, {
    weight: series([
      [Date.parse("2026-02-01T08:00:00Z"), 82.04],
      [M0 + 8 * HOUR, 80.56],
      [M0 + 20 * HOUR, 80.44],
    ]),
    heightMetres,
  });
}

/** Every fixture, for the properties that hold on all of them. */
export const ALL_FIXTURES: Record<string, () => NarrativeData> = {
  glucoseDay,
  glucoseHalfDay,
  glucoseFingersticks,
  glucoseSpringDay: () => glucoseEverywhere(BERLIN_SPRING_DAY),
  glucoseSpringWeek: () => glucoseEverywhere(BERLIN_SPRING_WEEK),
  glucoseAutumnDay: () => glucoseEverywhere(BERLIN_AUTUMN_DAY),
  heartDay,
  bloodPressureWeek,
  bloodPressure181: () => bloodPressureOnce(181, 100),
  sleepDay,
  sleepWeek,
  activityDay,
  activityWeek: () => activityWeek(),
  activityWeekShort: () => activityWeek(140),
  bodyDay,
  bodyDayNoHeight: () => bodyDay(null),
  fullWeek: () => fullWeek(),
  fullSpringWeek: () => fullWeek("2026-03-23", BERLIN_SPRING_WEEK),
  empty: () => narrativeData(MONDAY),
};
