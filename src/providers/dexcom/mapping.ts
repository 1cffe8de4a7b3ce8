import { mapEach, observation, providerSource } from "../mapping/build";
import { asRecord, listIn, optionalString, readNumber, reject } from "../mapping/fields";
import { offsetBetween, parseTimestamp } from "../mapping/time";
import type { MappingContext, ProviderBatch, ProviderMapping } from "../mapping/types";

/**
 * Dexcom API v3 `GET /v3/users/self/egvs` → `blood_glucose` observations.
 * Reference: https://developer.dexcom.com/docs/dexcomv3/operation/getEstimatedGlucoseValuesV3 and
 * the time discussion in https://developer.dexcom.com/docs/dexcomv3/endpoint-overview.
 *
 * - `value` is in `unit`: `mg/dL` is stored as is, `mmol/L` is converted (× 18.0182); `unknown`
 *   rejects the reading rather than guess.
 * - `systemTime` is the sensor's clock, nominally UTC: it is the instant. `displayTime` is the time
 *   the person saw on their phone or receiver, user-configurable: it gives the local date, and its
 *   offset the zone offset. Records from the mobile apps carry UTC offsets on both; records from a
 *   receiver carry none, so their offset is the difference between the two clocks (rounded to a
 *   quarter hour).
 * - An EGV is never revised (version 0); `recordId` makes a re-sync idempotent.
 * - Dexcom reports 40–400 mg/dL; values outside the registry's plausible range are kept, flagged.
 */
export const DEXCOM = "dexcom";

export function mapDexcomEgvs(payload: unknown, _context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "records"), "records", egvId, (raw) => {
    const record = asRecord(raw, "record");
    const generation = optionalString(record, "transmitterGeneration");
    const device = generation === null || generation === "unknown" ? "Dexcom" : `Dexcom ${generation.toUpperCase()}`;
    const source = providerSource(DEXCOM, "egv", record.recordId, 0, device);
    const system = parseTimestamp(record.systemTime, "systemTime");
    const display = parseTimestamp(record.displayTime, "displayTime");
    // systemTime is UTC whether or not it is written with a `Z`.
    const instant = system.ms;
    const zoneOffsetSeconds = display.offsetSeconds ?? offsetBetween(display.ms, instant);
    const unit = readUnit(record);
    const at = { start: instant, end: instant, zoneOffsetSeconds, localDate: display.wallDate };
    return { observations: [observation(source, "blood_glucose", readNumber(record, "value"), unit, at, "value")] };
  });
}

function readUnit(record: Record<string, unknown>): string {
  const unit = record.unit;
  if (unit === "mg/dL" || unit === "mmol/L") return unit;
  reject("unit is not mg/dL or mmol/L");
}

function egvId(record: unknown): string | null {
  if (typeof record !== "object" || record === null) return null;
  const id = (record as Record<string, unknown>).recordId;
  return typeof id === "string" ? `egv:${id}` : null;
}

/** The mappings by the data type the sync driver fetches. */
export const DEXCOM_MAPPINGS = { egvs: mapDexcomEgvs } as const satisfies Record<string, ProviderMapping>;
