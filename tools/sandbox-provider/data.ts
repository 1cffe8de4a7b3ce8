/**
 * The sandbox's health data: generated, never stored. Every value is a pure function of the user
 * id, the data type and the instant, so the same range always answers the same records with the
 * same ids (a re-sync is all duplicates) and no state grows with the history served.
 *
 * The person behind each sandbox account keeps a plausible routine in their own time zone: asleep
 * roughly 22:30–07:30 local, workouts on about half of the evenings, meals at breakfast, lunch and
 * dinner that move glucose. Ranges stay inside the metrics' plausibility limits.
 *
 * Shapes (documented in docs/providers.md, "The sandbox provider"): instants are ISO 8601 — heart
 * rate in UTC (`…Z`, like Oura's heart-rate samples), everything else with the person's local
 * offset (`2026-03-01T23:10:00+01:00`).
 */

export const DATA_TYPES = ["heart_rate", "hrv", "sleep", "steps", "glucose", "workouts"] as const;
export type DataType = (typeof DATA_TYPES)[number];

export function isDataType(value: string): value is DataType {
  return (DATA_TYPES as readonly string[]).includes(value);
}

/** Which data types each OAuth scope opens (the scopes Pulse asks for: src/providers/registry.ts). */
export const SCOPE_DATA_TYPES: Readonly<Record<string, readonly DataType[]>> = {
  heart_rate: ["heart_rate", "hrv", "glucose"],
  sleep: ["sleep"],
  workouts: ["workouts", "steps"],
};

export const MINUTE = 60_000;
const DAY = 86_400_000;
const STEP_INTERVAL = 15 * MINUTE;
const GLUCOSE_INTERVAL = 5 * MINUTE;

// ---------------------------------------------------------------------------------------------
// Deterministic noise: FNV-1a over the seed text, then an integer finaliser per sample index.

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A number in [0, 1) fixed by (seed, n). */
function noise(seed: number, n: number): number {
  let x = (seed ^ Math.imul(n | 0, 0x9e3779b1) ^ Math.imul(Math.floor(n / 0x1_0000_0000), 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  x ^= x >>> 16;
  return (x >>> 0) / 0x1_0000_0000;
}

// ---------------------------------------------------------------------------------------------
// Local time in the person's zone.

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();

/** The zone's UTC offset in minutes at `ms` (cached per quarter hour: zones change on those). */
export function offsetMinutes(timeZone: string, ms: number): number {
  const key = `${timeZone}|${Math.floor(ms / (15 * MINUTE))}`;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(ms).map((part) => [part.type, part.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute));
  const result = Math.round((wall - Math.floor(ms / MINUTE) * MINUTE) / MINUTE);
  if (offsets.size > 50_000) offsets.clear();
  offsets.set(key, result);
  return result;
}

export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** The UTC instant of a local wall clock (`wall` read as if it were UTC). */
function utcOf(timeZone: string, wall: number): number {
  let utc = wall - offsetMinutes(timeZone, wall) * MINUTE;
  utc = wall - offsetMinutes(timeZone, utc) * MINUTE;
  return utc;
}

/** ISO 8601 with the person's local offset, e.g. `2026-03-01T23:10:00+01:00`. */
export function localIso(timeZone: string, ms: number): string {
  const offset = offsetMinutes(timeZone, ms);
  const wall = new Date(ms + offset * MINUTE).toISOString().slice(0, 19);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${wall}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

function dateOf(wall: number): string {
  return new Date(wall).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------
// The person's routine, per local day (`day` = days since 1970-01-01 of the local calendar).

export interface Person {
  userId: string;
  timeZone: string;
}

interface Night {
  /** Local calendar day the night starts on (the evening). */
  day: number;
  start: number;
  end: number;
}

interface Session {
  day: number;
  activity: "running" | "cycling" | "walking" | "strength_training";
  start: number;
  end: number;
  intensity: number;
}

function seedOf(person: Person, what: string): number {
  return fnv1a(`${person.userId}:${what}`);
}

function nightOf(person: Person, day: number): Night {
  const seed = seedOf(person, "night");
  const bedtime = day * DAY + (22 * 60 + 30 + Math.floor(noise(seed, day * 2) * 70)) * MINUTE;
  const wake = (day + 1) * DAY + (6 * 60 + 15 + Math.floor(noise(seed, day * 2 + 1) * 75)) * MINUTE;
  return { day, start: utcOf(person.timeZone, bedtime), end: utcOf(person.timeZone, wake) };
}

const ACTIVITIES: readonly Session["activity"][] = ["running", "cycling", "walking", "strength_training"];

function workoutOf(person: Person, day: number): Session | null {
  const seed = seedOf(person, "workout");
  if (noise(seed, day * 4) >= 0.5) return null;
  const startWall = day * DAY + (17 * 60 + 30 + Math.floor(noise(seed, day * 4 + 1) * 120)) * MINUTE;
  const minutes = 30 + Math.floor(noise(seed, day * 4 + 2) * 46);
  const activity = ACTIVITIES[Math.floor(noise(seed, day * 4 + 3) * ACTIVITIES.length)] ?? "walking";
  const start = utcOf(person.timeZone, startWall);
  return { day, activity, start, end: start + minutes * MINUTE, intensity: noise(seed, day * 4 + 5) };
}

function localDayOf(person: Person, ms: number): number {
  return Math.floor((ms + offsetMinutes(person.timeZone, ms) * MINUTE) / DAY);
}

function asleepAt(person: Person, ms: number): boolean {
  const day = localDayOf(person, ms);
  for (const night of [nightOf(person, day - 1), nightOf(person, day)]) {
    if (ms >= night.start && ms < night.end) return true;
  }
  return false;
}

function workoutAt(person: Person, ms: number): Session | null {
  const session = workoutOf(person, localDayOf(person, ms));
  return session && ms >= session.start && ms < session.end ? session : null;
}

/** Hours since local midnight, as a fraction. */
function localHour(person: Person, ms: number): number {
  const wall = ms + offsetMinutes(person.timeZone, ms) * MINUTE;
  return (((wall % DAY) + DAY) % DAY) / 3_600_000;
}

// ---------------------------------------------------------------------------------------------
// Records.

export interface Window {
  /** Inclusive start, epoch ms. */
  start: number;
  /** Exclusive end, epoch ms. */
  end: number;
  /** Data exists only up to here (the account's "synced until"): later records have not arrived. */
  availableUntil: number;
}

/**
 * A data type's records in `window`, in time order: `count` of them, and `at(i)` the i-th. Fixed-
 * interval series (heart rate, steps, glucose) compute a record from its index, so a page of 2,000
 * never generates the other 41,000 samples of a 30-day window.
 */
export interface Series {
  count: number;
  at(index: number): Record<string, unknown>;
}

export function seriesOf(person: Person, type: DataType, window: Window): Series {
  switch (type) {
    case "heart_rate":
      return grid(window, MINUTE, 0, (ms) => heartRate(person, ms));
    case "steps":
      return grid(window, STEP_INTERVAL, STEP_INTERVAL, (ms) => steps(person, ms));
    case "glucose":
      return grid(window, GLUCOSE_INTERVAL, 0, (ms) => glucose(person, ms));
    case "sleep":
      return listed(nights(person, window).map((night) => sleep(person, night)));
    case "hrv":
      return listed(nights(person, window).map((night) => hrv(person, night)));
    case "workouts":
      return listed(workouts(person, window).map((session) => workout(person, session)));
  }
}

function listed(records: Record<string, unknown>[]): Series {
  return { count: records.length, at: (index) => records[index] ?? {} };
}

/** Records every `step` ms lasting `duration`: those starting in the window and complete by `availableUntil`. */
function grid(window: Window, step: number, duration: number, make: (ms: number) => Record<string, unknown>): Series {
  const first = Math.ceil(window.start / step);
  const last = Math.min(Math.ceil(window.end / step), Math.floor((window.availableUntil - duration) / step) + 1);
  const count = Math.max(0, last - first);
  return { count, at: (index) => make((first + index) * step) };
}

function heartRate(person: Person, ms: number): Record<string, unknown> {
  const seed = seedOf(person, "heart_rate");
  const n = ms / MINUTE;
  const jitter = noise(seed, n) - 0.5;
  let bpm: number;
  const session = workoutAt(person, ms);
  if (session) {
    const progress = (ms - session.start) / (session.end - session.start);
    const warmup = Math.min(1, progress * 6);
    bpm = 95 + warmup * (35 + session.intensity * 35) + jitter * 10;
  } else if (asleepAt(person, ms)) {
    bpm = 54 + 4 * Math.sin((n / 90) * Math.PI) + jitter * 6;
  } else {
    // A circadian rise towards mid-afternoon, and short bursts of moving about.
    const hour = localHour(person, ms);
    const moving = noise(seed, Math.floor(n / 10) + 7) > 0.85 ? 18 : 0;
    bpm = 66 + 8 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + moving + jitter * 10;
  }
  return { timestamp: new Date(ms).toISOString(), bpm: Math.round(bpm), source: "wrist" };
}

function steps(person: Person, ms: number): Record<string, unknown> {
  const seed = seedOf(person, "steps");
  const n = ms / STEP_INTERVAL;
  const session = workoutAt(person, ms + STEP_INTERVAL / 2);
  let count: number;
  if (session && (session.activity === "running" || session.activity === "walking")) {
    count = (session.activity === "running" ? 2300 : 1500) + Math.floor(noise(seed, n) * 400);
  } else if (asleepAt(person, ms + STEP_INTERVAL / 2)) {
    count = noise(seed, n) > 0.97 ? Math.floor(noise(seed, n + 1) * 30) : 0;
  } else {
    const r = noise(seed, n);
    count = r > 0.85 ? 250 + Math.floor(r * 500) : Math.floor(r * 120);
  }
  return {
    id: `steps_${Math.floor(ms / MINUTE)}`,
    start: localIso(person.timeZone, ms),
    end: localIso(person.timeZone, ms + STEP_INTERVAL),
    steps: count,
  };
}

const MEALS_HOURS = [7.75, 12.75, 19.25];

function glucoseAt(person: Person, ms: number): number {
  const seed = seedOf(person, "glucose");
  const day = localDayOf(person, ms);
  const hour = localHour(person, ms);
  let value = 88 + 8 * noise(seed, day) + 3 * Math.sin((hour / 24) * 2 * Math.PI);
  for (const [meal, mealHour] of MEALS_HOURS.entries()) {
    for (const mealDay of [0, -1]) {
      const after = (hour - mealHour - mealDay * 24) * 60; // minutes since the meal
      if (after <= 0 || after > 240) continue;
      const peak = 25 + 45 * noise(seed, (day + mealDay) * 8 + meal + 100);
      value += peak * (after / 45) * Math.exp(1 - after / 45);
    }
  }
  return value + (noise(seed, ms / GLUCOSE_INTERVAL) - 0.5) * 4;
}

function glucose(person: Person, ms: number): Record<string, unknown> {
  const value = Math.round(glucoseAt(person, ms));
  const slope = (glucoseAt(person, ms) - glucoseAt(person, ms - 15 * MINUTE)) / 15;
  const trend = slope > 1 ? "rising" : slope < -1 ? "falling" : "flat";
  return {
    id: `egv_${Math.floor(ms / MINUTE)}`,
    timestamp: localIso(person.timeZone, ms),
    value,
    unit: "mg/dL",
    trend,
  };
}

/** Nights starting in the window that have ended by `availableUntil`. */
function nights(person: Person, window: Window): Night[] {
  const result: Night[] = [];
  for (let day = localDayOf(person, window.start) - 1; day <= localDayOf(person, window.end); day++) {
    const night = nightOf(person, day);
    if (night.start >= window.start && night.start < window.end && night.end <= window.availableUntil) result.push(night);
  }
  return result;
}

function workouts(person: Person, window: Window): Session[] {
  const result: Session[] = [];
  for (let day = localDayOf(person, window.start) - 1; day <= localDayOf(person, window.end); day++) {
    const session = workoutOf(person, day);
    if (session && session.start >= window.start && session.start < window.end && session.end <= window.availableUntil) {
      result.push(session);
    }
  }
  return result;
}

const STAGE_PLAN = ["light", "deep", "light", "rem"] as const;

function sleep(person: Person, night: Night): Record<string, unknown> {
  const seed = seedOf(person, "stages");
  const stages: { stage: string; start: string; end: string }[] = [];
  let at = night.start;
  let step = 0;
  const push = (stage: string, minutes: number) => {
    const end = Math.min(night.end, at + Math.max(1, Math.round(minutes)) * MINUTE);
    if (end > at) stages.push({ stage, start: localIso(person.timeZone, at), end: localIso(person.timeZone, end) });
    at = end;
  };
  push("awake", 5 + noise(seed, night.day * 64) * 15);
  for (let cycle = 0; at < night.end; cycle++) {
    for (const stage of STAGE_PLAN) {
      const r = noise(seed, night.day * 64 + ++step);
      const minutes =
        stage === "deep"
          ? Math.max(5, 45 - cycle * 10) * (0.7 + r * 0.6)
          : stage === "rem"
            ? (10 + cycle * 8) * (0.7 + r * 0.6)
            : 15 + r * 25;
      push(stage, minutes);
    }
    if (noise(seed, night.day * 64 + ++step) > 0.6) push("awake", 2 + noise(seed, night.day * 64 + ++step) * 6);
  }
  const asleep = stages.filter((s) => s.stage !== "awake").reduce((sum, s) => sum + Date.parse(s.end) - Date.parse(s.start), 0);
  return {
    id: `sleep_${dateOf(night.day * DAY).replaceAll("-", "")}`,
    day: dateOf((night.day + 1) * DAY),
    start: localIso(person.timeZone, night.start),
    end: localIso(person.timeZone, night.end),
    duration_asleep_s: Math.round(asleep / 1000),
    stages,
  };
}

function hrv(person: Person, night: Night): Record<string, unknown> {
  const seed = seedOf(person, "hrv");
  return {
    id: `hrv_${dateOf(night.day * DAY).replaceAll("-", "")}`,
    day: dateOf((night.day + 1) * DAY),
    start: localIso(person.timeZone, night.start),
    end: localIso(person.timeZone, night.end),
    rmssd_ms: Math.round((32 + 30 * noise(seed, night.day)) * 10) / 10,
  };
}

const KCAL_PER_MINUTE: Record<Session["activity"], number> = { running: 11, cycling: 9, walking: 5, strength_training: 6 };
const METRES_PER_MINUTE: Partial<Record<Session["activity"], number>> = { running: 170, cycling: 380, walking: 85 };

function workout(person: Person, session: Session): Record<string, unknown> {
  const minutes = (session.end - session.start) / MINUTE;
  const pace = METRES_PER_MINUTE[session.activity];
  return {
    id: `workout_${Math.floor(session.start / MINUTE)}`,
    activity: session.activity,
    start: localIso(person.timeZone, session.start),
    end: localIso(person.timeZone, session.end),
    calories_kcal: Math.round(minutes * KCAL_PER_MINUTE[session.activity] * (0.85 + session.intensity * 0.3)),
    distance_m: pace === undefined ? null : Math.round(minutes * pace * (0.9 + session.intensity * 0.2)),
    average_heart_rate: Math.round(95 + 0.9 * (35 + session.intensity * 35)),
  };
}
