/**
 * How numbers read in a narrative. A sentence never formats a raw value: each section first
 * rounds a value into a figure (`SectionFigures.add`), then writes the sentence from that rounded
 * value with the same number of decimals, so the text and the figures can never disagree.
 * Integers carry thousands separators ("2,016"); durations read "7 h 12 min"; clock times "23:40".
 */
import type { FigureFlag, NarrativeFigure } from "./types";

const MINUTE_MS = 60_000;

export function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  // `+ 0` turns -0 into 0, so a rounded "-0.0 kg" change reads "0.0".
  return Math.round(value * factor) / factor + 0;
}

/** `1234.5` with 1 decimal → "1,234.5"; negative values keep their minus sign. */
export function num(value: number, decimals = 0): string {
  const fixed = Math.abs(value).toFixed(decimals);
  const dot = fixed.indexOf(".");
  const whole = dot < 0 ? fixed : fixed.slice(0, dot);
  const fraction = dot < 0 ? "" : fixed.slice(dot);
  let grouped = "";
  for (let i = 0; i < whole.length; i++) {
    if (i > 0 && (whole.length - i) % 3 === 0) grouped += ",";
    grouped += whole[i];
  }
  return (value < 0 && Number(fixed) !== 0 ? "-" : "") + grouped + fraction;
}

/** A change with its sign: "+0.8", "-1.2", "0.0". */
export function signed(value: number, decimals = 0): string {
  return value > 0 ? `+${num(value, decimals)}` : num(value, decimals);
}

export function percent(value: number): string {
  return `${num(value, 1)} %`;
}

/** Whole minutes as "7 h 12 min", "45 min", "2 h", "0 min". */
export function duration(minutes: number): string {
  const total = Math.round(minutes);
  const hours = Math.floor(total / 60);
  const rest = total - hours * 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** Minutes after local midnight (0–1439) as "07:05". */
export function clock(minutes: number): string {
  const m = ((Math.round(minutes) % 1440) + 1440) % 1440;
  const h = Math.floor(m / 60);
  return `${String(h).padStart(2, "0")}:${String(m - h * 60).padStart(2, "0")}`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return count === 1 ? one : many;
}

/** "a, b and c". */
export function listing(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** `strength_training` → "strength training", `rem` → "REM". */
export function words(code: string): string {
  return code === "rem" ? "REM" : code.replaceAll("_", " ");
}

/** A vocabulary term (stage, exercise type) as part of a figure code: snake_case ASCII only. */
export function codePart(term: string): string {
  return term.toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

/** Sentence case: the first letter up. */
export function capitalised(text: string): string {
  return text.length === 0 ? text : text[0]?.toUpperCase() + text.slice(1);
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/** The weekday of a `YYYY-MM-DD` calendar date (proleptic Gregorian; no time zone involved). */
export function weekday(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  const day = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)).getUTCDay();
  return WEEKDAYS[day] ?? "";
}

export function minutesOf(ms: number): number {
  return ms / MINUTE_MS;
}

export interface FigureSpec {
  code: string;
  label: string;
  unit: string;
  decimals: number;
  reference?: string;
  /** Read against the ROUNDED value, so a flag never contradicts the number shown. */
  flag?: (value: number) => FigureFlag | undefined;
}

/** The figures of one section, in the order they are added. */
export class SectionFigures {
  readonly list: NarrativeFigure[] = [];

  /** Rounds `raw`, records it as a figure and returns the rounded value for the sentence. */
  add(spec: FigureSpec, raw: number): number {
    const value = round(raw, spec.decimals);
    const figure: NarrativeFigure = { code: spec.code, label: spec.label, value, unit: spec.unit };
    if (spec.reference !== undefined) figure.reference = spec.reference;
    const flag = spec.flag?.(value);
    if (flag !== undefined) figure.flag = flag;
    this.list.push(figure);
    return value;
  }

  /** A figure that has no value (nothing recorded), so its absence is explicit. */
  missing(spec: FigureSpec): void {
    const figure: NarrativeFigure = { code: spec.code, label: spec.label, value: null, unit: spec.unit };
    if (spec.reference !== undefined) figure.reference = spec.reference;
    this.list.push(figure);
  }
}
