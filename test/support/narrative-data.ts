/**
 * Builds `NarrativeData` for tests: empty series by default, local days from explicit UTC
 * offsets (so a DST day of 23 or 25 hours is written down, not looked up), regular series from a
 * value function, and a full week with every domain at production density for the performance
 * and property tests. Deterministic: no clock, no randomness.
 */
import type {
  IntervalSeries,
  LocalDay,
  NarrativeData,
  NarrativeSleep,
  NarrativeWorkout,
  Series,
} from "../../src/narratives/types";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

function addDays(date: string, n: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + n)).toISOString().slice(0, 10);
}

/** UTC midnight of a calendar date, epoch ms. */
export function utcMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/**
 * Local days from `first`: `offsetsMinutes[i]` is the zone's UTC offset at the local midnight
 * that starts day i, so there are `offsetsMinutes.length - 1` days. Europe/Berlin's spring-forward
 * day 2026-03-29 is `localDays("2026-03-29", [60, 120])`: 23 hours.
 */
export function localDays(first: string, offsetsMinutes: number[]): LocalDay[] {
  const days: LocalDay[] = [];
  for (let i = 0; i + 1 < offsetsMinutes.length; i++) {
    const date = addDays(first, i);
    days.push({
      date,
      start: utcMidnight(date) - (offsetsMinutes[i] ?? 0) * MINUTE,
      end: utcMidnight(addDays(first, i + 1)) - (offsetsMinutes[i + 1] ?? 0) * MINUTE,
    });
  }
  return days;
}

/** `count` UTC days from `first`. */
export function utcDays(first: string, count: number): LocalDay[] {
  return localDays(first, new Array<number>(count + 1).fill(0));
}

export function emptySeries(): Series {
  return { times: [], values: [] };
}

export function emptyIntervals(): IntervalSeries {
  return { starts: [], ends: [], values: [] };
}

/** A series from explicit [epoch ms, value] pairs (must be in time order). */
export function series(points: [number, number][]): Series {
  return { times: points.map(([t]) => t), values: points.map(([, v]) => v) };
}

/** Samples every `stepMinutes` from `start` (inclusive) to `end` (exclusive), value from the index and time. */
export function regularSeries(start: number, end: number, stepMinutes: number, value: (i: number, t: number) => number): Series {
  const times: number[] = [];
  const values: number[] = [];
  for (let t = start, i = 0; t < end; t += stepMinutes * MINUTE, i++) {
    times.push(t);
    values.push(value(i, t));
  }
  return { times, values };
}

export function intervals(records: [start: number, end: number, value: number][]): IntervalSeries {
  return { starts: records.map((r) => r[0]), ends: records.map((r) => r[1]), values: records.map((r) => r[2]) };
}

/** An empty period over `days` (every domain without data) — override what a test needs. */
export function narrativeData(days: LocalDay[], overrides: Partial<NarrativeData> = {}): NarrativeData {
  const first = days[0];
  const last = days.at(-1);
  if (first === undefined || last === undefined) throw new Error("narrativeData needs at least one day");
  return {
    period: days.length === 1 ? "day" : "week",
    date: first.date,
    timeZone: "UTC",
    start: first.start,
    end: last.end,
    days,
    glucose: emptySeries(),
    heartRate: emptySeries(),
    restingHeartRate: emptySeries(),
    hrvRmssd: emptySeries(),
    hrvRmssdBaseline: emptySeries(),
    oxygenSaturation: emptySeries(),
    respiratoryRate: emptySeries(),
    bloodPressure: { times: [], systolic: [], diastolic: [] },
    weight: emptySeries(),
    heightMetres: null,
    steps: emptyIntervals(),
    activeEnergy: emptyIntervals(),
    sleep: [],
    workouts: [],
    ...overrides,
  };
}

export function sleepSession(
  fields: Partial<NarrativeSleep> & Pick<NarrativeSleep, "start" | "end" | "localDate">,
): NarrativeSleep {
  const inBed = (fields.end - fields.start) / MINUTE;
  return {
    stageMinutes: {},
    inBedMinutes: inBed,
    asleepMinutes: inBed,
    bedtimeLocalMinutes: 0,
    wakeLocalMinutes: 0,
    ...fields,
  };
}

export function workout(fields: Partial<NarrativeWorkout> & Pick<NarrativeWorkout, "start" | "end">): NarrativeWorkout {
  return { exerciseType: "running", peakHeartRate: null, heartRateTwoMinutesAfter: null, ...fields };
}

/**
 * A week with every domain at production density: heart rate every minute (10,080 samples), CGM
 * every 5 minutes (2,016), SpO2 and respiratory rate every minute at night, steps per minute while
 * awake, nightly sleep with stages, a workout a day, BP twice a day, a daily weight. Values follow
 * smooth deterministic curves.
 */
export function fullWeek(first = "2026-03-02", days: LocalDay[] = utcDays(first, 7)): NarrativeData {
  const start = days[0]?.start ?? 0;
  const end = days.at(-1)?.end ?? 0;
  const wave = (t: number, periodMs: number) => Math.sin((2 * Math.PI * t) / periodMs);
  const nights = (step: number, value: (i: number) => number): Series => {
    const s: Series = { times: [], values: [] };
    for (const day of days) {
      const part = regularSeries(day.start, day.start + 6 * HOUR, step, value);
      s.times.push(...part.times);
      s.values.push(...part.values);
    }
    return s;
  };
  const steps = emptyIntervals();
  const energy = emptyIntervals();
  const workouts: NarrativeWorkout[] = [];
  const sleep: NarrativeSleep[] = [];
  const bp = { times: [] as number[], systolic: [] as number[], diastolic: [] as number[] };
  const weight = regularSeries(start - 30 * DAY, end, 24 * 60, (i) => 80 - i * 0.05);
  days.forEach((day, d) => {
    for (let t = day.start + 7 * HOUR; t < day.start + 22 * HOUR; t += MINUTE) {
      steps.starts.push(t);
      steps.ends.push(t + MINUTE);
      steps.values.push(Math.round(8 + 6 * wave(t, 3 * HOUR)));
      if ((t - day.start) % (15 * MINUTE) === 0) {
        energy.starts.push(t);
        energy.ends.push(t + 15 * MINUTE);
        energy.values.push(20 + d);
      }
    }
    const ws = day.start + 18 * HOUR;
    workouts.push({
      start: ws,
      end: ws + (30 + 5 * d) * MINUTE,
      exerciseType: d % 2 === 0 ? "running" : "biking",
      peakHeartRate: 160 + d,
      heartRateTwoMinutesAfter: 130 + 2 * d,
    });
    const bedOffset = (d % 3) * 20 - 20;
    sleep.push({
      start: day.start - 60 * MINUTE + bedOffset * MINUTE,
      end: day.start + 7 * HOUR,
      localDate: day.date,
      inBedMinutes: 480 - bedOffset,
      asleepMinutes: 430 - bedOffset,
      stageMinutes: { light: 230 - bedOffset, deep: 80, rem: 120, awake: 50 },
      bedtimeLocalMinutes: (1380 + bedOffset + 1440) % 1440,
      wakeLocalMinutes: 420,
    });
    for (const h of [8, 20]) {
      bp.times.push(day.start + h * HOUR);
      bp.systolic.push(124 + d);
      bp.diastolic.push(78 + (d % 3));
    }
  });
  return narrativeData(days, {
    glucose: regularSeries(start, end, 5, (_, t) => Math.round(125 + 45 * wave(t, 6 * HOUR))),
    heartRate: regularSeries(start, end, 1, (_, t) => Math.round(72 + 30 * wave(t, 4 * HOUR))),
    restingHeartRate: regularSeries(start + 6 * HOUR, end, 24 * 60, (i) => 58 + (i % 3)),
    hrvRmssd: regularSeries(start + 5 * HOUR, end, 24 * 60, (i) => 40 + i),
    hrvRmssdBaseline: regularSeries(start - 28 * DAY + 5 * HOUR, start, 24 * 60, (i) => 38 + (i % 5)),
    oxygenSaturation: nights(1, (i) => 96 - (i % 200 === 0 ? 8 : 0)),
    respiratoryRate: nights(5, (i) => 14 + (i % 4)),
    bloodPressure: bp,
    weight,
    heightMetres: 1.8,
    steps,
    activeEnergy: energy,
    sleep,
    workouts,
  });
}
