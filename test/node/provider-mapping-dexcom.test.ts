import { describe, expect, it } from "vitest";
import { mapDexcomEgvs } from "../../src/providers/dexcom/mapping";
import { FETCHED_AT, parseAsStore, providerFixture, sharedProviderData } from "../support/provider-mapping";

const context = { fetchedAt: FETCHED_AT };

describe("Dexcom v3 egvs mapping", () => {
  it("maps the contract example: systemTime is the instant, displayTime gives offset and local date", () => {
    const batch = mapDexcomEgvs(sharedProviderData("dexcom-v3-egvs-example.json"), context);
    expect(batch.rejected).toEqual([]);
    expect(batch.observations).toEqual([
      {
        metric: "blood_glucose",
        start: Date.UTC(2025, 1, 6, 9, 12, 35),
        end: Date.UTC(2025, 1, 6, 9, 12, 35),
        value: 112,
        unit: "mg/dL",
        sourceKind: "provider",
        sourceApp: "dexcom",
        device: "Dexcom G7",
        sourceRecordId: "egv:0b3c3a6e-6d5c-4a1f-9b7e-2f0f2d6d9a01",
        zoneOffsetSeconds: -5 * 3600,
        localDate: "2025-02-06",
        flagged: false,
        version: 0,
      },
    ]);
    expect(parseAsStore(batch).observations).toHaveLength(1);
  });

  it("converts mmol/L × 18.0182, derives a receiver's offset from its two clocks, flags and rejects", () => {
    const batch = mapDexcomEgvs(providerFixture("dexcom", "egvs-mixed.json"), context);
    const [mmol, receiver, low] = batch.observations;
    expect(mmol).toMatchObject({ value: 6.2 * 18.0182, unit: "mg/dL", zoneOffsetSeconds: 11 * 3600, localDate: "2026-03-02" });
    expect(mmol?.value).toBeCloseTo(111.71284, 5);
    expect(mmol?.start).toBe(Date.UTC(2026, 2, 1, 22, 40));
    // Receiver: no offsets written; the display clock runs 5 h (minus 2 s of drift) behind UTC.
    expect(receiver).toMatchObject({
      value: 98,
      start: Date.UTC(2026, 2, 2, 3, 55, 2),
      zoneOffsetSeconds: -5 * 3600,
      localDate: "2026-03-01",
      device: "Dexcom G6",
      flagged: false,
    });
    expect(low).toMatchObject({ value: 15, flagged: true, sourceRecordId: "egv:synthetic-egv-implausible" });
    expect(batch.rejected).toEqual([
      { sourceRecordId: "egv:synthetic-egv-unknown-unit", reason: "records[3]: unit is not mg/dL or mmol/L" },
    ]);
    expect(parseAsStore(batch).observations).toHaveLength(3);
  });

  it("maps a re-sync to the same keys and values (idempotent at the store)", () => {
    const first = mapDexcomEgvs(providerFixture("dexcom", "egvs-mixed.json"), context);
    const again = mapDexcomEgvs(providerFixture("dexcom", "egvs-mixed.json"), { fetchedAt: FETCHED_AT + 3_600_000 });
    expect(again).toEqual(first);
  });

  it("reports a payload without a records list instead of throwing", () => {
    expect(mapDexcomEgvs("not json", context).rejected).toEqual([{ sourceRecordId: null, reason: "records is not a list" }]);
    expect(mapDexcomEgvs({ recordType: "egv" }, context).rejected).toEqual([
      { sourceRecordId: null, reason: "records is not a list" },
    ]);
  });
});
