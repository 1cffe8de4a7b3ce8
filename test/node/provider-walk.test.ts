import { describe, expect, it } from "vitest";
import { STRAVA_MAPPINGS } from "../../src/providers/strava/mapping";
import { mapRecords, nextCursor, positionOf } from "../../src/providers/walk";
import { DAY_MS, domainError } from "../support/provider-api";
import { providerFixture } from "../support/provider-mapping";

const range = { since: new Date(Date.UTC(2026, 0, 1)), until: new Date(Date.UTC(2026, 0, 1) + 70 * DAY_MS) };
const TYPES = ["a", "b"] as const;

describe("the range walk shared by drivers", () => {
  it("windows of at most maxWindowDays, the last one cut at `until`, then the next type from the start", () => {
    let position = positionOf(range, null, TYPES, 30);
    const seen: [string, number, number][] = [];
    for (;;) {
      seen.push([position.dataType, position.start.getTime(), position.end.getTime()]);
      const next = nextCursor(range, position, TYPES, null);
      if (next === null) break;
      position = positionOf(range, next, TYPES, 30);
    }
    const t0 = range.since.getTime();
    const windows = [
      [t0, t0 + 30 * DAY_MS],
      [t0 + 30 * DAY_MS, t0 + 60 * DAY_MS],
      [t0 + 60 * DAY_MS, t0 + 70 * DAY_MS],
    ];
    expect(seen).toEqual([...windows.map(([s, e]) => ["a", s, e]), ...windows.map(([s, e]) => ["b", s, e])]);
  });

  it("a page token stays in its window; no window limit is one window", () => {
    const position = positionOf(range, null, TYPES, null);
    expect(position.end).toEqual(range.until);
    expect(nextCursor(range, position, TYPES, "p2")).toEqual({
      dataType: "a",
      windowStart: range.since.toISOString(),
      pageToken: "p2",
    });
  });

  it("refuses an empty range and a checkpoint that does not belong to the range", async () => {
    const empty = { since: range.since, until: range.since };
    expect((await domainError(async () => positionOf(empty, null, TYPES, 30))).code).toBe("BAD_REQUEST");
    const outside = { dataType: "a", windowStart: "2025-06-01T00:00:00.000Z", pageToken: null };
    expect((await domainError(async () => positionOf(range, outside, TYPES, 30))).code).toBe("BAD_REQUEST");
    const unknownType = { dataType: "c", windowStart: range.since.toISOString(), pageToken: null };
    expect((await domainError(async () => positionOf(range, unknownType, TYPES, 30))).code).toBe("BAD_REQUEST");
  });

  it("map rejects records it cannot dispatch and still maps the others", () => {
    const [activity] = providerFixture("strava", "activities.json") as unknown[];
    const mapped = mapRecords(
      [{ type: "activities", payload: activity, fetchedAt: 1 }, { type: "segments", payload: {}, fetchedAt: 1 }, "junk"],
      null,
      STRAVA_MAPPINGS,
      (_type, payload) => payload,
    );
    expect(mapped.workouts).toHaveLength(1);
    expect(mapped.rejected).toEqual([
      { sourceRecordId: null, reason: "record type is not one this driver fetches" },
      { sourceRecordId: null, reason: "record type is not one this driver fetches" },
    ]);
  });
});
