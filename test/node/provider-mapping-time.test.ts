import { describe, expect, it } from "vitest";
import { RecordRejection } from "../../src/health-connect/fields";
import { offsetBetween, parseTimestamp, zoneOffsetAt } from "../../src/providers/mapping/time";

describe("provider timestamps", () => {
  it("reads the instant, the written offset and the wall-clock date", () => {
    expect(parseTimestamp("2026-03-01T23:30:00-05:00", "t")).toEqual({
      ms: Date.UTC(2026, 2, 2, 4, 30),
      offsetSeconds: -18000,
      wallDate: "2026-03-01",
    });
    expect(parseTimestamp("2026-03-02T04:30:00Z", "t").offsetSeconds).toBe(0);
    expect(parseTimestamp("2026-03-02T10:00:00+0530", "t")).toMatchObject({
      ms: Date.UTC(2026, 2, 2, 4, 30),
      offsetSeconds: 19800,
    });
    expect(parseTimestamp("2026-03-02T10:00:00+05", "t").offsetSeconds).toBe(18000);
  });

  it("keeps milliseconds exactly and drops sub-millisecond digits", () => {
    expect(parseTimestamp("2026-03-02T00:00:00.57Z", "t").ms % 1000).toBe(570);
    expect(parseTimestamp("2026-03-02T00:00:00.774Z", "t").ms % 1000).toBe(774);
    expect(parseTimestamp("2026-03-02T00:00:00.123999999+01:00", "t").ms % 1000).toBe(123);
  });

  it("treats a timestamp without offset as a wall clock with no known offset", () => {
    expect(parseTimestamp("2026-03-02T08:00:00", "t")).toEqual({
      ms: Date.UTC(2026, 2, 2, 8),
      offsetSeconds: null,
      wallDate: "2026-03-02",
    });
  });

  it("rejects what is not a real date and time, naming the field", () => {
    for (const bad of ["2026-02-30T00:00:00Z", "2026-03-02T24:00:00Z", "yesterday", "2026-03-02T10:00:00+25:00", 1772434800]) {
      expect(() => parseTimestamp(bad, "start_time")).toThrow(RecordRejection);
    }
    expect(() => parseTimestamp("2026-02-30T00:00:00Z", "start_time")).toThrow("start_time is not a valid date and time");
  });

  it("resolves IANA zones at the instant (DST included) and derives offsets from two clocks", () => {
    expect(zoneOffsetAt("Europe/Paris", Date.UTC(2026, 0, 15))).toBe(3600);
    expect(zoneOffsetAt("Europe/Paris", Date.UTC(2026, 6, 15))).toBe(7200);
    expect(zoneOffsetAt("Not/AZone", Date.UTC(2026, 6, 15))).toBeNull();
    expect(zoneOffsetAt(null, 0)).toBeNull();
    expect(offsetBetween(Date.UTC(2026, 2, 1, 22, 55), Date.UTC(2026, 2, 2, 3, 55, 2))).toBe(-18000);
    expect(offsetBetween(Date.UTC(2026, 2, 5), Date.UTC(2026, 2, 1))).toBeNull();
  });
});
