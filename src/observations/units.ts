import { METRICS, type MetricCode } from "./metrics";

/**
 * Conversion into a metric's canonical unit (DESIGN §5): every source states the unit it measured
 * in, and only canonical values are stored. Factors are exact by definition (NIST SP 811) except
 * glucose: 1 mmol/L = 18.0182 mg/dL follows from glucose's molar mass, 180.182 g/mol.
 */
export type Convert = (value: number) => number;

const scale =
  (factor: number): Convert =>
  (value) =>
    value * factor;

const FROM: Readonly<Record<string, Readonly<Record<string, Convert>>>> = {
  kcal: { kJ: scale(1 / 4.184), J: scale(1 / 4184), cal: scale(1 / 1000), Cal: scale(1) },
  "kcal/d": { "kJ/d": scale(1 / 4.184) },
  m: { km: scale(1000), cm: scale(0.01), mi: scale(1609.344), ft: scale(0.3048), in: scale(0.0254) },
  kg: { g: scale(0.001), lb: scale(0.45359237), oz: scale(0.028349523125), st: scale(6.35029318) },
  "°C": { "°F": (value) => ((value - 32) * 5) / 9, K: (value) => value - 273.15 },
  "mg/dL": { "mmol/L": scale(18.0182) },
  mL: { L: scale(1000), fl_oz_us: scale(29.5735295625) },
  "m/s": { "km/h": scale(1 / 3.6), mph: scale(0.44704) },
  W: { kW: scale(1000) },
  g: { mg: scale(0.001), kg: scale(1000) },
  mg: { g: scale(1000), µg: scale(0.001) },
  µg: { mg: scale(1000), g: scale(1_000_000) },
  "%": { fraction: scale(100) },
};

/** Spellings of the same unit. */
const ALIASES: Readonly<Record<string, string>> = {
  ug: "µg",
  mcg: "µg",
  C: "°C",
  F: "°F",
  ml: "mL",
  l: "L",
  kilocalories: "kcal",
};

/**
 * The value in the metric's canonical unit, or `null` when `unit` is not one Pulse can convert
 * from (the caller rejects the record rather than store a value in an unknown unit).
 */
export function toCanonical(metric: MetricCode, value: number, unit: string): number | null {
  const convert = converterTo(metric, unit);
  return convert === null ? null : convert(value);
}

const identity: Convert = (value) => value;

/** The conversion from `unit` to the metric's canonical unit, resolved once for a run of values. */
export function converterTo(metric: MetricCode, unit: string): Convert | null {
  const canonical = METRICS[metric].unit;
  const source = Object.hasOwn(ALIASES, unit) ? (ALIASES[unit] ?? unit) : unit;
  if (source === canonical) return identity;
  const table = Object.hasOwn(FROM, canonical) ? FROM[canonical] : undefined;
  return table !== undefined && Object.hasOwn(table, source) ? (table[source] ?? null) : null;
}
