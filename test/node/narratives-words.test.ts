// The access log's sentences for narrative reads and the refresh job's regeneration, from the
// resources the HealthStore records (durable-objects/health-store/narratives.ts), and the periods
// a narrative query resolves to (src/narratives/period.ts).
import { describe, expect, it } from "vitest";
import { describeEvent } from "../../src/access-log/describe";
import { formatAuditResource } from "../../src/audit/resource";
import { DomainError } from "../../src/errors/domain-error";
import { resolveNarrativePeriod, resolveTimeZone } from "../../src/narratives/period";
import { auditEvent } from "../support/audit-event";

const at = Date.parse;

describe("access log words for narratives", () => {
  it("words a day's read, a week's read limited to a grant's categories, a refusal and the regeneration", () => {
    const day = formatAuditResource({
      kind: "narrative",
      date: "2026-03-29",
      since: at("2026-03-28T23:00:00Z"),
      until: at("2026-03-29T22:00:00Z"),
    });
    expect(day).toBe("narrative;d=2026-03-29;p=2026-03-28T23:00:00.000Z/2026-03-29T22:00:00.000Z");
    expect(describeEvent(auditEvent("narratives.read", day))).toBe("Read the narrative of 29 Mar 2026");

    const week = formatAuditResource({
      kind: "narrative",
      date: "2026-11-02",
      since: at("2026-11-02T00:00:00Z"),
      until: at("2026-11-09T00:00:00Z"),
      categories: ["vitals", "sleep"],
    });
    expect(describeEvent(auditEvent("narratives.read", week))).toBe(
      "Read the weekly narrative from 2 Nov 2026 (your vitals and sleep data)",
    );
    expect(describeEvent(auditEvent("narratives.read", week, "denied"))).toBe(
      "Tried to read the weekly narrative from 2 Nov 2026 (your vitals and sleep data); refused",
    );
    const plain = formatAuditResource({
      kind: "narrative",
      date: "2026-11-02",
      since: at("2026-11-02T00:00:00Z"),
      until: at("2026-11-09T00:00:00Z"),
    });
    expect(describeEvent(auditEvent("narratives.write", plain))).toBe("Prepared the weekly narrative from 2 Nov 2026");
  });
});

describe("access log words for a summary the analyst gave", () => {
  it("says the analyst read the day's or week's narrative, and which categories it is made of", () => {
    // As durable-objects/health-store/analysis.ts records a summary question's read.
    const week = formatAuditResource({
      kind: "ai",
      date: "2026-11-30",
      since: at("2026-11-30T05:00:00Z"),
      until: at("2026-12-07T05:00:00Z"),
      categories: ["activity", "body", "glucose", "sleep", "vitals"],
    });
    expect(week).toBe("ai;d=2026-11-30;p=2026-11-30T05:00:00.000Z/2026-12-07T05:00:00.000Z;c=activity,body,glucose,sleep,vitals");
    expect(describeEvent(auditEvent("ai.query", week))).toBe(
      "Analysed the weekly narrative from 30 Nov 2026 (your activity, body, glucose, sleep and vitals data) to answer your question",
    );
    const day = formatAuditResource({
      kind: "ai",
      date: "2026-12-06",
      since: at("2026-12-06T00:00:00Z"),
      until: at("2026-12-07T00:00:00Z"),
      categories: ["glucose"],
    });
    expect(describeEvent(auditEvent("ai.query", day))).toBe(
      "Analysed the narrative of 6 Dec 2026 (your glucose data) to answer your question",
    );
    // A question about series keeps its wording.
    const series = formatAuditResource({
      kind: "ai",
      metrics: ["steps"],
      since: at("2026-12-01T00:00:00Z"),
      until: at("2026-12-02T00:00:00Z"),
    });
    expect(describeEvent(auditEvent("ai.query", series))).toBe(
      "Analysed steps for 1 Dec 2026 – 2 Dec 2026 to answer your question",
    );
    // A question naming no measure reads nothing, and the log must not say "all your health data".
    const nothing = formatAuditResource({ kind: "ai", since: at("2026-09-08T00:00:00Z"), until: at("2026-12-07T00:00:00Z") });
    expect(describeEvent(auditEvent("ai.query", nothing))).toBe(
      "Sent the enclave none of your data for your question: it named no measure",
    );
  });
});

describe("narrative periods", () => {
  const NOW = at("2026-11-05T12:00:00Z");

  it("gives the ISO week Monday to Sunday holding the date, in the zone", () => {
    const paris = resolveTimeZone("Europe/Paris");
    // 2026-11-05 is a Thursday.
    const week = resolveNarrativePeriod("week", "2026-11-05", paris, NOW);
    expect(week).toMatchObject({ date: "2026-11-02", endDate: "2026-11-08" });
    expect(new Date(week.start).toISOString()).toBe("2026-11-01T23:00:00.000Z");
    expect(new Date(week.end).toISOString()).toBe("2026-11-08T23:00:00.000Z");
    // A Sunday belongs to the week before it; a Monday starts its own.
    expect(resolveNarrativePeriod("week", "2026-11-08", paris, NOW).date).toBe("2026-11-02");
    expect(resolveNarrativePeriod("week", "2026-11-09", paris, NOW).date).toBe("2026-11-09");
  });

  it("makes a DST day 23 hours long, and defaults the date to today in the zone", () => {
    const paris = resolveTimeZone("Europe/Paris");
    const day = resolveNarrativePeriod("day", "2026-03-29", paris, NOW);
    expect(day.end - day.start).toBe(23 * 3_600_000);
    expect(day.endDate).toBe("2026-03-29");
    // 23:30 UTC on 5 Nov is already 6 Nov in Tokyo.
    const tokyo = resolveTimeZone("Asia/Tokyo");
    expect(resolveNarrativePeriod("day", undefined, tokyo, at("2026-11-05T23:30:00Z")).date).toBe("2026-11-06");
  });

  it("refuses a period outside the supported dates, and a zone that names none, by parameter", () => {
    const utc = resolveTimeZone("UTC");
    const paramOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        if (error instanceof DomainError) return error.errors?.map((issue) => issue.path);
      }
      return null;
    };
    // 1970-01-01 is a Thursday: its week starts in 1969.
    expect(paramOf(() => resolveNarrativePeriod("week", "1970-01-01", utc, NOW))).toEqual(["date"]);
    expect(paramOf(() => resolveNarrativePeriod("week", "9999-12-30", utc, NOW))).toEqual(["date"]);
    expect(paramOf(() => resolveNarrativePeriod("day", "1970-01-01", resolveTimeZone("+05:00"), NOW))).toEqual(["date"]);
    expect(paramOf(() => resolveNarrativePeriod("day", "1970-01-01", utc, NOW))).toBeNull();
    expect(paramOf(() => resolveTimeZone("Mars/Olympus"))).toEqual(["tz"]);
  });
});
