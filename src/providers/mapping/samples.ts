import { idField, mapEach, observation, providerSource } from "./build";
import { asRecord, listIn, readNumber } from "./fields";
import { parseTimestamp, zoneOffsetAt } from "./time";
import type { MappingContext, ProviderBatch } from "./types";

/**
 * `{data: [{timestamp, bpm}]}`, instant heart-rate samples without ids (Oura v2 `heartrate`, the
 * sandbox's `heart_rate`): one `heart_rate` observation each, keyed by its instant (unique per
 * person) and never revised. A non-zero offset written on the sample is the device's own; `+00:00`
 * only says "UTC", so the person's zone (`context.timeZone`) places it instead.
 */
export function mapHeartRateSamples(sourceApp: string, kind: string, payload: unknown, context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField(kind, "timestamp"), (raw) => {
    const sample = asRecord(raw, "sample");
    const time = parseTimestamp(sample.timestamp, "timestamp");
    const source = providerSource(sourceApp, kind, new Date(time.ms).toISOString(), 0);
    const written = time.offsetSeconds === 0 ? null : time.offsetSeconds;
    const at = { start: time.ms, end: time.ms, zoneOffsetSeconds: written ?? zoneOffsetAt(context.timeZone, time.ms) };
    return { observations: [observation(source, "heart_rate", readNumber(sample, "bpm"), "bpm", at, "bpm")] };
  });
}
