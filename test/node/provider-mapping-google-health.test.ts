import { describe, expect, it } from "vitest";
import { durationSeconds, mapGoogleHealthDataPoints } from "../../src/providers/google-health/mapping";
import { FETCHED_AT, parseAsStore, providerFixture } from "../support/provider-mapping";

const context = { fetchedAt: FETCHED_AT };

describe("Google Health API v4 data point mapping", () => {
  it("reads proto3 JSON durations as UTC offsets", () => {
    expect(durationSeconds("-18000s", "o")).toBe(-18000);
    expect(durationSeconds("19800.000s", "o")).toBe(19800);
    expect(() => durationSeconds("-90000s", "o")).toThrow("o is not a UTC offset");
  });

  it("maps heart rate (int64 as string), steps over their interval, and staged sleep", () => {
    const batch = mapGoogleHealthDataPoints(providerFixture("google-health", "data-points.json"), context);
    expect(batch.observations[0]).toEqual({
      metric: "heart_rate",
      start: Date.UTC(2026, 2, 2, 4, 30),
      end: Date.UTC(2026, 2, 2, 4, 30),
      value: 57,
      unit: "bpm",
      sourceKind: "provider",
      sourceApp: "google_health",
      device: null,
      sourceRecordId: "dataPoint:heart-rate/synthetic-hr-1",
      zoneOffsetSeconds: -18000,
      // 23:30 on the 1st where the wearer was, though the 2nd in UTC.
      localDate: "2026-03-01",
      flagged: false,
      version: 0,
    });
    expect(batch.observations[1]).toMatchObject({
      metric: "steps",
      value: 112,
      unit: "count",
      start: Date.UTC(2026, 2, 2, 14),
      end: Date.UTC(2026, 2, 2, 14, 1),
      sourceRecordId: "dataPoint:steps/synthetic-steps-1",
      localDate: "2026-03-02",
    });
    expect(batch.observations[2]).toMatchObject({ metric: "heart_rate", value: 231, flagged: true });
    expect(batch.sleepSessions).toEqual([
      expect.objectContaining({
        sourceRecordId: "dataPoint:sleep/synthetic-sleep-1",
        version: Date.parse("2026-03-02T11:20:00Z"),
        zoneOffsetSeconds: -18000,
        localDate: "2026-03-02",
        flagged: false,
        stages: [
          { stage: "awake", start: Date.UTC(2026, 2, 2, 4), end: Date.UTC(2026, 2, 2, 4, 15) },
          { stage: "light", start: Date.UTC(2026, 2, 2, 4, 15), end: Date.UTC(2026, 2, 2, 6) },
          { stage: "deep", start: Date.UTC(2026, 2, 2, 6), end: Date.UTC(2026, 2, 2, 7, 30) },
          { stage: "rem", start: Date.UTC(2026, 2, 2, 7, 30), end: Date.UTC(2026, 2, 2, 11) },
        ],
      }),
    ]);
    expect(batch.rejected).toEqual([
      {
        sourceRecordId: "users/me/dataTypes/heart-rate/dataPoints/synthetic-hr-3",
        reason: "dataPoints[4]: heartRate.sampleTime.utcOffset is not a duration",
      },
    ]);
    const parsed = parseAsStore(batch);
    expect(parsed.observations).toHaveLength(3);
    expect(parsed.sleepSessions).toHaveLength(1);
  });
});
