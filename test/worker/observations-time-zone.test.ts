import { describe, expect, it } from "vitest";
import { utcOfLocal } from "../../durable-objects/health-store/zone";
import { formatInstant, parseTimeZone, startOfLocalDate, type TimeZone } from "../../src/observations/time-zone";

function zone(name: string): TimeZone {
  const parsed = parseTimeZone(name);
  if (parsed === null) throw new Error(`${name} did not parse`);
  return parsed;
}

describe("parseTimeZone", () => {
  it("knows UTC, fixed offsets and IANA names, and nothing else", () => {
    expect(zone("UTC").name).toBe("UTC");
    expect(zone("+05:30").offsetAt(0)).toBe(330);
    expect(zone("-03:30").offsetAt(0)).toBe(-210);
    expect(zone("Asia/Kathmandu").offsetAt(Date.UTC(2026, 0, 1))).toBe(345);
    expect(zone("America/New_York").offsetAt(Date.UTC(2026, 6, 1))).toBe(-240);
    for (const name of ["Mars/Olympus", "+5:30", "+05:60", "+19:00", "", "utc+1", "Europe/Paris;DROP"]) {
      expect(parseTimeZone(name), name).toBeNull();
    }
  });

  it("finds DST changes to the second inside a span", () => {
    const paris = zone("Europe/Paris");
    const year = paris.zoneFor(Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1));
    expect(year).toEqual({
      offsetMinutes: 60,
      changes: [
        { at: Date.UTC(2026, 2, 29, 1), offsetMinutes: 120 },
        { at: Date.UTC(2026, 9, 25, 1), offsetMinutes: 60 },
      ],
    });
    expect(zone("Asia/Tokyo").zoneFor(Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).toEqual({ offsetMinutes: 540, changes: [] });
  });

  it("places local midnights, including on DST days, and writes instants with their offset", () => {
    const paris = zone("Europe/Paris");
    expect(startOfLocalDate(paris, "2026-03-29")).toBe(Date.UTC(2026, 2, 28, 23));
    expect(startOfLocalDate(paris, "2026-03-30")).toBe(Date.UTC(2026, 2, 29, 22));
    expect(startOfLocalDate(paris, "2026-10-25")).toBe(Date.UTC(2026, 9, 24, 22));
    const march = paris.zoneFor(Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1));
    expect(formatInstant(march, Date.UTC(2026, 2, 29, 0, 59))).toBe("2026-03-29T01:59:00.000+01:00");
    expect(formatInstant(march, Date.UTC(2026, 2, 29, 22))).toBe("2026-03-30T00:00:00.000+02:00");
    expect(formatInstant(zone("-03:30").zoneFor(0, 0), Date.UTC(2026, 0, 1))).toBe("2025-12-31T20:30:00.000-03:30");
    expect(formatInstant(zone("UTC").zoneFor(0, 0), Date.UTC(2026, 0, 1))).toBe("2026-01-01T00:00:00.000Z");
  });

  it("resolves local times skipped or repeated by DST to the instant the clock shows them first", () => {
    const newYork = zone("America/New_York").zoneFor(Date.UTC(2026, 2, 1), Date.UTC(2026, 11, 1));
    // 02:30 on 2026-03-08 does not exist (02:00 EST jumps to 03:00 EDT at 07:00Z).
    expect(utcOfLocal(newYork, Date.UTC(2026, 2, 8, 2, 30))).toBe(Date.UTC(2026, 2, 8, 7));
    // 01:30 on 2026-11-01 happens twice; the first is EDT.
    expect(utcOfLocal(newYork, Date.UTC(2026, 10, 1, 1, 30))).toBe(Date.UTC(2026, 10, 1, 5, 30));
  });
});
