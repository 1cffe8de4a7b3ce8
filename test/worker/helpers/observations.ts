import type { ObservationInput } from "../../../durable-objects/health-store/schema";

/** One uploaded sample of `metric` at `start` (epoch ms), UTC local date; `extra` overrides any field. */
export function observationInput(
  metric: string,
  unit: string,
  start: number,
  value: number,
  extra: Partial<ObservationInput> = {},
): ObservationInput {
  return {
    metric,
    start,
    end: start,
    value,
    unit,
    sourceKind: "upload",
    sourceApp: "com.example.health",
    sourceRecordId: `${metric}-${start}-${value}`,
    localDate: new Date(start).toISOString().slice(0, 10),
    version: 1,
    ...extra,
  };
}
