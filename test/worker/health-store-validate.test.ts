import { describe, expect, it } from "vitest";
import { fastParseObservation } from "../../durable-objects/health-store/fast-parse";
import { observationInputSchema } from "../../durable-objects/health-store/schema";

/**
 * The fast path must never accept what `observationInputSchema` refuses, and must produce exactly
 * zod's output when it accepts. Checked on valid observations and on many single-field mutations.
 */
const VALID = {
  metric: "heart_rate",
  start: 1_768_464_000_000,
  end: 1_768_464_000_000,
  value: 61.5,
  unit: "bpm",
  sourceKind: "upload",
  sourceApp: "com.google.android.apps.fitness",
  device: "Pixel Watch",
  sourceRecordId: "0f8c2a8e-5d0b-4c47-9a55-000000000001",
  zoneOffsetSeconds: 3600,
  localDate: "2026-01-15",
  flagged: false,
  version: 1_767_225_600_000,
};

const REPLACEMENTS: Record<string, unknown[]> = {
  metric: ["Heart_rate", "", "1x", "a".repeat(64), "a".repeat(65), "heart-rate", 7, null, undefined],
  start: [0, -1, 1.5, Number.NaN, 253_402_300_799_999, 253_402_300_800_000, "1768464000000", null, undefined],
  end: [1_768_463_999_999, 1_768_464_000_001, Number.POSITIVE_INFINITY, null, undefined],
  value: [0, -40, 1e308, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, "61", null, undefined],
  unit: ["", "x".repeat(32), "x".repeat(33), 1, null, undefined],
  sourceKind: ["provider", "Upload", "", null, undefined],
  sourceApp: ["a", "", "a".repeat(256), "a".repeat(257), undefined],
  device: [null, undefined, "", "d".repeat(256), "d".repeat(257), 3],
  sourceRecordId: ["", "r".repeat(257), undefined],
  zoneOffsetSeconds: [null, undefined, -64_800, 64_800, 64_801, 1.5, "3600"],
  localDate: ["2026-02-29", "2024-02-29", "2026-13-01", "2026-1-15", "20260115", "", undefined],
  flagged: [true, undefined, null, 0, "false"],
  version: [0, undefined, -1, 0.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, null],
};

function agree(input: unknown): void {
  const zod = observationInputSchema.safeParse(input);
  const fast = fastParseObservation(input);
  if (fast !== null) {
    expect(zod.success, JSON.stringify(input)).toBe(true);
    expect(fast).toEqual(zod.data);
  }
}

describe("fastParseObservation", () => {
  it("accepts a valid observation with zod's output, defaults included", () => {
    const { device: _device, zoneOffsetSeconds: _zone, flagged: _flagged, version: _version, ...minimal } = VALID;
    for (const input of [VALID, minimal]) {
      expect(fastParseObservation(input)).toEqual(observationInputSchema.parse(input));
    }
  });

  it("agrees with zod on every single-field change", () => {
    let accepted = 0;
    for (const [field, values] of Object.entries(REPLACEMENTS)) {
      for (const value of values) {
        const input: Record<string, unknown> = { ...VALID, [field]: value };
        if (value === undefined) delete input[field];
        agree(input);
        if (fastParseObservation(input) !== null) accepted += 1;
      }
    }
    expect(accepted).toBeGreaterThan(20);
  });

  it("declines unknown keys, non-objects and objects that are not plain", () => {
    const inputs: unknown[] = [
      { ...VALID, extra: 1 },
      [VALID],
      null,
      "observation",
      Object.assign(Object.create({ inherited: true }), VALID),
      new Map(Object.entries(VALID)),
    ];
    for (const input of inputs) {
      expect(fastParseObservation(input)).toBeNull();
      agree(input);
    }
  });
});
