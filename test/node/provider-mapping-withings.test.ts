import { describe, expect, it } from "vitest";
import { mapWithingsMeasures, mapWithingsSleepSummary, measureValue } from "../../src/providers/withings/mapping";
import { FETCHED_AT, parseAsStore, providerFixture } from "../support/provider-mapping";

const context = { fetchedAt: FETCHED_AT };
const CET = 3600;

describe("Withings mappings", () => {
  it("applies the unit exponent exactly", () => {
    expect(measureValue(72345, -3)).toBe(72.345);
    expect(measureValue(3695, -2)).toBe(36.95);
    expect(measureValue(3, 2)).toBe(300);
  });

  it("getmeas: meastype codes to metrics, value × 10^unit, offset from the reported zone", () => {
    const batch = mapWithingsMeasures(providerFixture("withings", "getmeas.json"), context);
    const rows = batch.observations.map((o) => [o.sourceRecordId, o.metric, o.value, o.unit, o.flagged]);
    expect(rows).toEqual([
      ["measuregrp:5000000001", "weight", 72.345, "kg", false],
      ["measuregrp:5000000001", "body_fat", 21.5, "%", false],
      ["measuregrp:5000000001", "lean_body_mass", 56.79, "kg", false],
      ["measuregrp:5000000001", "bone_mass", 3, "kg", false],
      ["measuregrp:5000000001", "body_water_mass", 40.12, "kg", false],
      ["measuregrp:5000000002", "blood_pressure_diastolic", 82, "mmHg", false],
      ["measuregrp:5000000002", "blood_pressure_systolic", 128, "mmHg", false],
      ["measuregrp:5000000002", "heart_rate", 64, "bpm", false],
      ["measuregrp:5000000003", "body_temperature", 36.95, "°C", false],
      ["measuregrp:5000000003", "oxygen_saturation", 97, "%", false],
      ["measuregrp:5000000003", "height", 1.795, "m", false],
      // 46.05 °C is no living body temperature: kept, flagged.
      ["measuregrp:5000000004", "body_temperature", 46.05, "°C", true],
    ]);
    expect(batch.observations[5]).toMatchObject({
      start: 1772438400_000,
      end: 1772438400_000,
      sourceKind: "provider",
      sourceApp: "withings",
      zoneOffsetSeconds: CET,
      localDate: "2026-03-02",
      version: 1772442000_000,
    });
    // Category 2 (a goal) is not a measurement; a non-numeric value rejects its whole group.
    expect(batch.observations.some((o) => o.sourceRecordId === "measuregrp:5000000005")).toBe(false);
    expect(batch.rejected).toEqual([
      { sourceRecordId: "measuregrp:5000000006", reason: "measuregrps[5]: measures[0].value is missing or not a number" },
    ]);
    expect(parseAsStore(batch).observations).toHaveLength(12);
  });

  it("getmeas: an error status maps nothing and says so", () => {
    const batch = mapWithingsMeasures({ status: 401, error: "invalid_token" }, context);
    expect(batch.observations).toEqual([]);
    expect(batch.rejected).toEqual([{ sourceRecordId: null, reason: "response status is 401, not 0" }]);
  });

  it("sleep getsummary: a night on Withings' date, in the series' zone, with average HR and breathing", () => {
    const batch = mapWithingsSleepSummary(providerFixture("withings", "sleep-getsummary.json"), context);
    expect(batch.sleepSessions).toEqual([
      {
        sourceKind: "provider",
        sourceApp: "withings",
        sourceRecordId: "sleep:2000000001",
        version: 1772467000_000,
        start: 1772435400_000,
        end: 1772464200_000,
        zoneOffsetSeconds: -8 * 3600,
        localDate: "2026-03-02",
        title: null,
        notes: null,
        device: null,
        flagged: false,
        stages: [],
      },
    ]);
    expect(batch.observations.map((o) => [o.metric, o.value, o.unit, o.sourceRecordId])).toEqual([
      ["heart_rate", 57, "bpm", "sleep:2000000001"],
      ["respiratory_rate", 15, "breaths/min", "sleep:2000000001"],
    ]);
    parseAsStore(batch);
  });
});
