import { describe, expect, it } from "vitest";
import { STRAVA_MAPPINGS } from "../../src/providers/strava/mapping";
import { mapRecords, nextCursor, stepAt, type WalkPlan, walkRange } from "../../src/providers/walk";
import { DAY_MS, domainError } from "../support/provider-driver";
import { providerFixture } from "../support/provider-mapping";

const range = { since: new Date(Date.UTC(2026, 0, 1)), until: new Date(Date.UTC(2026, 0, 1) + 70 * DAY_MS) };
const PLAN: WalkPlan = { dataTypes: ["a", "b"], windowDays: 30 };

describe("the range walk shared by drivers", () => {
  it("windows of at most windowDays, the last one cut at `until`, then the next type from the start", () => {
    let step = stepAt(range, null, PLAN);
    const seen: [string, number, number][] = [];
    for (;;) {
      seen.push([step.dataType, step.windowStart.getTime(), step.windowEnd.getTime()]);
      const next = nextCursor(step, range, PLAN, null);
      if (next === null) break;
      step = stepAt(range, next, PLAN);
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
    const plan = { ...PLAN, windowDays: null };
    const step = stepAt(range, null, plan);
    expect(step.windowEnd).toEqual(range.until);
    expect(nextCursor(step, range, plan, "p2")).toEqual({
      dataType: "a",
      windowStart: range.since.toISOString(),
      pageToken: "p2",
    });
  });

  it("records carry their type and the instant they were fetched; an empty range fetches nothing", async () => {
    const before = Date.now();
    const page = await walkRange(range, null, PLAN, async () => ({ items: [{ id: 1 }], pageToken: null }));
    expect(page.records).toEqual([{ type: "a", payload: { id: 1 }, fetchedAt: expect.any(Number) }]);
    expect(page.records[0]?.fetchedAt).toBeGreaterThanOrEqual(before);
    expect(page.records[0]?.fetchedAt).toBeLessThanOrEqual(Date.now());
    let asked = false;
    const empty = await walkRange({ since: range.since, until: range.since }, null, PLAN, async () => {
      asked = true;
      return { items: [], pageToken: null };
    });
    expect(empty).toEqual({ records: [], next: null });
    expect(asked).toBe(false);
  });

  it("a type the provider has nothing of (not granted) skips its remaining windows", async () => {
    const asked: string[] = [];
    const page = await walkRange(range, null, PLAN, async (step) => {
      asked.push(step.dataType);
      return { items: [], pageToken: "ignored", typeExhausted: true };
    });
    expect(asked).toEqual(["a"]);
    expect(page).toEqual({ records: [], next: { dataType: "b", windowStart: range.since.toISOString(), pageToken: null } });
  });

  it("refuses a checkpoint that does not belong to the range, naming the field", async () => {
    const outside = { dataType: "a", windowStart: "2025-06-01T00:00:00.000Z", pageToken: null };
    const early = await domainError(async () => stepAt(range, outside, PLAN));
    expect(early.code).toBe("VALIDATION_FAILED");
    expect(early.errors).toEqual([{ path: "cursor.windowStart", message: expect.any(String) }]);
    const unknownType = { dataType: "c", windowStart: range.since.toISOString(), pageToken: null };
    const foreign = await domainError(async () => stepAt(range, unknownType, PLAN));
    expect(foreign.errors).toEqual([{ path: "cursor.dataType", message: expect.any(String) }]);
  });

  it("map versions documents by their fetch, rejects records it cannot dispatch and still maps the others", () => {
    const [activity] = providerFixture("strava", "activities.json") as unknown[];
    const mapped = mapRecords(
      [
        { type: "activities", payload: activity, fetchedAt: 1_000 },
        { type: "activities", payload: activity, fetchedAt: 2_000 },
        { type: "segments", payload: {}, fetchedAt: 1_000 },
        { type: "activities", payload: activity },
        "junk",
      ],
      STRAVA_MAPPINGS,
      (_type, items) => [items],
      null,
    );
    expect(mapped.workouts.map((workout) => workout.version)).toEqual([1_000, 2_000]);
    expect(mapped.rejected).toEqual([
      { sourceRecordId: null, reason: "record is not shaped {type, payload, fetchedAt}" },
      { sourceRecordId: null, reason: "record is not shaped {type, payload, fetchedAt}" },
      { sourceRecordId: null, reason: "record type has no mapping" },
    ]);
  });
});
