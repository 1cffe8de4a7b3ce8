import { describe, expect, it } from "vitest";
import { describeEvent, describeWho } from "../../src/access-log/describe";
import type { ChainedAuditEvent } from "../../src/audit/event";
import { formatAuditResource, MAX_RESOURCE_LENGTH, parseAuditResource } from "../../src/audit/resource";
import { METRIC_CODES } from "../../src/observations/metrics";

const NOV_1 = Date.UTC(2026, 10, 1);
const NOV_8 = Date.UTC(2026, 10, 8);

describe("audit resource grammar", () => {
  it("records metrics and the period, and reads them back", () => {
    const text = formatAuditResource({ kind: "observations", metrics: ["heart_rate", "hrv_rmssd"], since: NOV_1, until: NOV_8 });
    expect(text).toBe("observations;p=2026-11-01T00:00:00.000Z/2026-11-08T00:00:00.000Z;m=heart_rate,hrv_rmssd");
    expect(parseAuditResource(text)).toEqual({
      kind: "observations",
      metrics: ["heart_rate", "hrv_rmssd"],
      categories: ["vitals"],
      period: { since: "2026-11-01T00:00:00.000Z", until: "2026-11-08T00:00:00.000Z" },
      date: null,
      id: null,
      truncated: false,
    });
  });

  it("writes open ends as .. and omits a period nobody gave", () => {
    const open = parseAuditResource(formatAuditResource({ kind: "sleep", metrics: ["sleep"], since: NOV_1 }));
    expect(open.period).toEqual({ since: "2026-11-01T00:00:00.000Z", until: null });
    expect(open.categories).toEqual(["sleep"]);
    expect(parseAuditResource(formatAuditResource({ kind: "latest", metrics: ["steps"] })).period).toBeNull();
  });

  it("falls back to categories when every metric does not fit, never cutting silently", () => {
    const text = formatAuditResource({ kind: "observations", metrics: METRIC_CODES, since: NOV_1, until: NOV_8 });
    expect(text.length).toBeLessThanOrEqual(MAX_RESOURCE_LENGTH);
    const parsed = parseAuditResource(text);
    expect(parsed.metrics).toEqual([]);
    expect(parsed.categories).toEqual(["vitals", "activity", "body", "nutrition", "glucose", "reproductive"]);
    expect(parsed.period?.until).toBe("2026-11-08T00:00:00.000Z");
  });

  it("percent-encodes ids, and marks one shortened to fit", () => {
    const short = formatAuditResource({ kind: "source", id: "upload:com.example;a=b/c" });
    expect(parseAuditResource(short)).toMatchObject({ kind: "source", id: "upload:com.example;a=b/c", truncated: false });
    const long = formatAuditResource({ kind: "source", id: `provider:${"é".repeat(200)}` });
    expect(long.length).toBeLessThanOrEqual(MAX_RESOURCE_LENGTH);
    const parsed = parseAuditResource(long);
    expect(parsed.truncated).toBe(true);
    expect(parsed.id).toMatch(/^provider:é+$/);
  });

  it("refuses a kind outside the grammar", () => {
    expect(() => formatAuditResource({ kind: "observations:heart_rate" })).toThrow();
  });

  it("understands every older form", () => {
    expect(parseAuditResource("observations")).toMatchObject({ kind: "observations", metrics: [], period: null });
    expect(parseAuditResource("observations:heart_rate,steps")).toMatchObject({
      kind: "observations",
      metrics: ["heart_rate", "steps"],
      categories: ["vitals", "activity"],
    });
    expect(parseAuditResource("observations,sleep,workouts")).toMatchObject({
      kind: "observations",
      categories: ["activity", "sleep"],
    });
    expect(parseAuditResource("ai:activity,vitals:heart_rate,steps")).toMatchObject({
      kind: "ai",
      categories: ["activity", "vitals"],
      metrics: ["heart_rate", "steps"],
    });
    expect(parseAuditResource("ai::")).toMatchObject({ kind: "ai", categories: [], metrics: [] });
    expect(parseAuditResource("summary:2026-01-15")).toMatchObject({ kind: "summary", date: "2026-01-15" });
    expect(parseAuditResource("source:upload:com.app")).toMatchObject({ kind: "source", id: "upload:com.app" });
    expect(parseAuditResource("vault:note-1")).toMatchObject({ kind: "vault", id: "note-1" });
    expect(parseAuditResource("sleep")).toMatchObject({ kind: "sleep", metrics: [] });
    expect(parseAuditResource(`observations:${"heart_rate,".repeat(20)}`.slice(0, 200)).truncated).toBe(true);
  });
});

function event(overrides: Partial<ChainedAuditEvent>): ChainedAuditEvent {
  return {
    seq: 1,
    at: "2026-11-09T10:00:00.000Z",
    actor: "usr_me",
    role: "patient",
    action: "observations.read",
    resource: "observations",
    subject: "usr_me",
    reason: null,
    result: "success",
    requestId: null,
    ip: null,
    prevHash: "0".repeat(64),
    hash: "1".repeat(64),
    ...overrides,
  };
}

describe("access log in words", () => {
  it("describes a read with its metrics and period", () => {
    const resource = formatAuditResource({
      kind: "observations",
      metrics: ["heart_rate", "hrv_rmssd"],
      since: NOV_1,
      until: NOV_8,
    });
    expect(describeEvent(event({ resource }))).toBe("Read heart rate and HRV (RMSSD) for 1 Nov 2026 – 8 Nov 2026");
  });

  it("says when an access was refused, and names times that are not midnights", () => {
    const resource = formatAuditResource({
      kind: "sleep",
      metrics: ["sleep"],
      since: NOV_1 + 3_600_000,
      until: NOV_1 + 7_200_000,
    });
    expect(describeEvent(event({ action: "sleep.read", resource, result: "denied" }))).toBe(
      "Tried to read sleep sessions for 1 Nov 2026 01:00 – 02:00 UTC; refused",
    );
  });

  it("describes open periods, multi-day hours, latest values, deletions and older events", () => {
    const since = formatAuditResource({ kind: "workouts", metrics: ["workout"], since: NOV_1 });
    expect(describeEvent(event({ action: "workouts.read", resource: since }))).toBe("Read workouts since 1 Nov 2026");
    const hours = formatAuditResource({ kind: "observations", metrics: ["steps"], since: NOV_1 + 3_600_000, until: NOV_8 });
    expect(describeEvent(event({ resource: hours }))).toBe("Read steps for 1 Nov 2026 01:00 UTC – 8 Nov 2026 00:00 UTC");
    expect(describeEvent(event({ resource: "latest;m=weight,vo2_max" }))).toBe("Read your latest weight and VO2 max");
    expect(describeEvent(event({ action: "observations.delete", resource: "source;id=provider%3Aoura" }))).toBe(
      "Deleted everything stored from oura (provider)",
    );
    expect(describeEvent(event({ action: "summary.read", resource: "summary:2026-01-15" }))).toBe(
      "Read the daily summary for 15 Jan 2026",
    );
    expect(describeEvent(event({ resource: "observations", result: "failure" }))).toBe(
      "Tried to read all your health data; it failed",
    );
  });

  it("describes the retention of original uploads in words", () => {
    expect(describeEvent(event({ action: "upload.purge_raw", resource: "upload:upl_1" }))).toBe(
      "Deleted the original file of an upload after its retention period; its data is kept (upload upl_1)",
    );
  });

  it("labels each kind of actor", () => {
    const names = new Map([
      ["usr_ada", { displayName: "Dr Ada Rivera" }],
      ["usr_gone", { deleted: true as const }],
      ["usr_aud", { displayName: "Audrey" }],
    ]);
    const who = (overrides: Partial<ChainedAuditEvent>) => describeWho(event(overrides), "usr_me", names);
    expect(who({}).label).toBe("you");
    expect(who({ actor: "usr_ada", role: "clinician" })).toEqual({
      kind: "grantee",
      id: "usr_ada",
      displayName: "Dr Ada Rivera",
      role: "clinician",
      label: "Dr Ada Rivera (clinician)",
    });
    expect(who({ action: "ai.query" }).label).toBe("analyst in the enclave");
    expect(who({ actor: "system:upload.ingest", role: "system" }).label).toBe("Pulse (ingestion)");
    expect(who({ actor: "system:provider.sync", role: "system" }).label).toBe("Pulse (provider sync)");
    expect(who({ actor: "usr_aud", role: "auditor" })).toMatchObject({ kind: "auditor", label: "an auditor" });
    expect(who({ actor: "usr_gone", role: "clinician" })).toMatchObject({ kind: "deleted-account", label: "a deleted account" });
  });
});
