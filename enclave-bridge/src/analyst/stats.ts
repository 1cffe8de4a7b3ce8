import { formatLocalInstant, isoDateOf, type LocalZone, localDayOf, startOfLocalDay, UTC_ZONE } from "./zone.ts";

/** Plain statistics over timed values; no I/O, deterministic, safe inside the enclave. */
export interface TimedValue {
  /** Epoch milliseconds of the sample's (or the day's) start. */
  at: number;
  value: number;
}

const DAY_MS = 86_400_000;

export function mean(values: readonly TimedValue[]): number {
  return values.reduce((sum, entry) => sum + entry.value, 0) / values.length;
}

export function sum(values: readonly TimedValue[]): number {
  return values.reduce((total, entry) => total + entry.value, 0);
}

/** The first highest (or lowest) sample, so ties resolve to the earliest. */
export function extreme(values: readonly TimedValue[], pick: "highest" | "lowest"): TimedValue | undefined {
  let best: TimedValue | undefined;
  for (const entry of values) {
    if (best === undefined || (pick === "highest" ? entry.value > best.value : entry.value < best.value)) best = entry;
  }
  return best;
}

/**
 * Per-local-day totals for quantities that add up (steps), oldest first, each at its day's first
 * instant; days without data are absent, not zero.
 */
export function dailyTotals(values: readonly TimedValue[], zone: LocalZone = UTC_ZONE): TimedValue[] {
  const days = new Map<number, number>();
  for (const entry of values) {
    const day = localDayOf(entry.at, zone);
    days.set(day, (days.get(day) ?? 0) + entry.value);
  }
  return [...days.entries()].sort(([a], [b]) => a - b).map(([day, value]) => ({ at: startOfLocalDay(day, zone), value }));
}

/** Ordinary least-squares slope in units per day; `null` when all samples share one instant. */
export function slopePerDay(values: readonly TimedValue[]): number | null {
  if (values.length < 2) return null;
  const xs = values.map((entry) => entry.at / DAY_MS);
  const meanX = xs.reduce((total, x) => total + x, 0) / xs.length;
  const meanY = mean(values);
  let numerator = 0;
  let denominator = 0;
  values.forEach((entry, index) => {
    const dx = (xs[index] ?? meanX) - meanX;
    numerator += dx * (entry.value - meanY);
    denominator += dx * dx;
  });
  return denominator === 0 ? null : numerator / denominator;
}

/** Oldest-first halves; with an odd count the middle sample goes to neither. */
export function halves(values: readonly TimedValue[]): [TimedValue[], TimedValue[]] {
  const sorted = [...values].sort((a, b) => a.at - b.at);
  const half = Math.floor(sorted.length / 2);
  return [sorted.slice(0, half), sorted.slice(sorted.length - half)];
}

export function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const rounded = Math.round(value * factor) / factor;
  return Object.is(rounded, -0) ? 0 : rounded;
}

/** Fixed decimals with thousands separators, independent of the runtime's locale data. */
export function formatNumber(value: number, decimals: number): string {
  const [whole = "0", fraction] = Math.abs(value).toFixed(decimals).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${value < 0 && round(value, decimals) !== 0 ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`}`;
}

export function formatInstant(at: number, zone: LocalZone = UTC_ZONE): string {
  return formatLocalInstant(at, zone);
}

export function formatDay(at: number, zone: LocalZone = UTC_ZONE): string {
  return isoDateOf(localDayOf(at, zone));
}

export function formatMinutes(minutes: number): string {
  const whole = Math.round(minutes);
  const hours = Math.floor(whole / 60);
  return hours === 0 ? `${whole} min` : `${hours} h ${whole % 60} min`;
}
