import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { StoreAuditContext } from "../../durable-objects/health-store/schema";
import { getDb } from "../../src/db/client";
import { users } from "../../src/db/schema";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * `GET /v1/me/access-log`: the person's own audit chain in words. The clinician's read is made
 * through the store RPC with the clinician as actor (what a grantee route records), so this test
 * does not depend on the sharing routes.
 */
const app = createTestApp();

const NOV_1 = Date.UTC(2026, 10, 1);
const NOV_8 = Date.UTC(2026, 10, 8);
const DAY = 86_400_000;

interface Item {
  seq: number;
  at: string;
  who: { kind: string; id?: string; displayName?: string; role: string; label: string };
  action: string;
  description: string;
  categories: string[];
  metrics: string[];
  period: { since: string | null; until: string | null } | null;
  reason: string | null;
  result: string;
  requestId: string | null;
}
type LogPage = { items: Item[]; nextCursor: string | null };

function audit(subject: string, overrides: Partial<StoreAuditContext> = {}): StoreAuditContext {
  return { actor: subject, role: "patient", reason: null, requestId: null, ip: null, subject, ...overrides };
}

async function named(user: SessionUser, displayName: string): Promise<void> {
  await getDb(env.DB).update(users).set({ displayName }).where(eq(users.id, user.user.id));
}

/**
 * A patient whose chain holds, oldest first: an upload's ingestion, a provider sync, the patient's
 * own read through the API, a clinician's read with a reason, an AI question and a refused read.
 */
async function patientWithHistory() {
  const patient = await createSessionUser();
  const clinician = await createSessionUser({ role: "clinician" });
  await named(clinician, "Dr Ada Rivera");
  const store = healthStoreFor(env.HEALTH_STORE, patient.user.id);
  const subject = patient.user.id;

  await store.ingest(
    [observationInput("heart_rate", "bpm", NOV_1 + 3_600_000, 61), observationInput("hrv_rmssd", "ms", NOV_1 + 7_200_000, 42)],
    audit(subject, { actor: "system:upload.ingest", role: "system", reason: "upload upl_test" }),
  );
  await store.ingest(
    [observationInput("steps", "count", NOV_1 + DAY, 900, { sourceKind: "provider", sourceApp: "oura" })],
    audit(subject, { actor: "system:provider.sync", role: "system", reason: "oura connection" }),
  );
  const own = await call(
    app,
    "/v1/observations?metrics=heart_rate,hrv_rmssd&since=2026-11-01T00:00:00Z&until=2026-11-08T00:00:00Z",
    {
      headers: patient.headers,
    },
  );
  expect(own.status).toBe(200);
  const ownRequestId = own.headers.get("X-Request-Id");
  await store.queryObservations(
    { metrics: ["heart_rate"], since: NOV_1, until: NOV_8, resolution: "day" },
    audit(subject, { actor: clinician.user.id, role: "clinician", reason: "treatment; pre-visit review", requestId: "req-clin" }),
  );
  await store.analysisDataset(
    { metrics: ["steps"], sleep: true, since: NOV_1, until: NOV_8, maxPointsPerMetric: 100 },
    audit(subject),
  );
  await store.appendAuditEvent(
    { action: "sleep.read", resource: "sleep", result: "denied" },
    audit(subject, { actor: clinician.user.id, role: "clinician", reason: "treatment" }),
  );
  return { patient, clinician, store, ownRequestId };
}

async function log(user: SessionUser, query = ""): Promise<LogPage> {
  const res = await call(app, `/v1/me/access-log${query}`, { headers: user.headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  return res.json<LogPage>();
}

describe("GET /v1/me/access-log", () => {
  it("shows every access newest first: who, what, over which period, why and with what result", async () => {
    const { patient, clinician, ownRequestId } = await patientWithHistory();
    const page = await log(patient);

    expect(page.nextCursor).toBeNull();
    expect(page.items.map((item) => item.seq)).toEqual([6, 5, 4, 3, 2, 1]);
    const [denied, ai, clinicianRead, ownRead, sync, ingestion] = page.items;
    expect(denied).toMatchObject({
      who: {
        kind: "grantee",
        id: clinician.user.id,
        displayName: "Dr Ada Rivera",
        role: "clinician",
        label: "Dr Ada Rivera (clinician)",
      },
      action: "sleep.read",
      description: "Tried to read sleep sessions; refused",
      result: "denied",
    });
    expect(ai).toMatchObject({
      who: { kind: "analyst", label: "analyst in the enclave" },
      action: "ai.query",
      description: "Analysed steps and sleep sessions for 1 Nov 2026 – 8 Nov 2026 to answer your question",
      categories: ["activity", "sleep"],
      metrics: ["steps", "sleep"],
    });
    expect(clinicianRead).toEqual({
      seq: 4,
      at: expect.any(String),
      who: {
        kind: "grantee",
        id: clinician.user.id,
        displayName: "Dr Ada Rivera",
        role: "clinician",
        label: "Dr Ada Rivera (clinician)",
      },
      action: "observations.read",
      description: "Read heart rate for 1 Nov 2026 – 8 Nov 2026",
      categories: ["vitals"],
      metrics: ["heart_rate"],
      period: { since: "2026-11-01T00:00:00.000Z", until: "2026-11-08T00:00:00.000Z" },
      reason: "treatment; pre-visit review",
      result: "success",
      requestId: "req-clin",
    });
    expect(ownRead).toMatchObject({
      who: { kind: "you", id: patient.user.id, role: "patient", label: "you" },
      description: "Read heart rate and HRV (RMSSD) for 1 Nov 2026 – 8 Nov 2026",
      requestId: ownRequestId,
      reason: null,
    });
    expect(sync).toMatchObject({
      who: { kind: "provider", role: "system", label: "Pulse (provider sync)" },
      action: "observations.write",
      description: "Stored steps at 2 Nov 2026 00:00 UTC",
      reason: "oura connection",
    });
    expect(ingestion).toMatchObject({
      who: { kind: "ingestion", role: "system", label: "Pulse (ingestion)" },
      description: "Stored heart rate and HRV (RMSSD) for 1 Nov 2026 01:00 – 02:00 UTC",
      metrics: ["heart_rate", "hrv_rmssd"],
      period: { since: "2026-11-01T01:00:00.000Z", until: "2026-11-01T02:00:00.001Z" },
    });
    expect(ingestion?.who.id).toBeUndefined();
  });

  it("is not itself recorded: reading the log leaves the chain as it was", async () => {
    const { patient, store } = await patientWithHistory();
    await log(patient);
    await log(patient, "?actor=me");
    expect((await store.accessLog({ limit: 100 })).items).toHaveLength(6);
  });

  it("filters by actor, role and time in the store, each page bound to its filters", async () => {
    const { patient, clinician } = await patientWithHistory();
    const seqs = async (query: string) => (await log(patient, query)).items.map((item) => item.seq);

    expect(await seqs("?actor=me")).toEqual([5, 3]);
    expect(await seqs("?actor=others")).toEqual([6, 4, 2, 1]);
    expect(await seqs(`?actor=${clinician.user.id}`)).toEqual([6, 4]);
    expect(await seqs("?role=system")).toEqual([2, 1]);
    expect(await seqs("?actor=others&role=clinician")).toEqual([6, 4]);
    expect(await seqs(`?actor=usr_${"b".repeat(26)}`)).toEqual([]);

    const all = (await log(patient)).items;
    const third = all.find((item) => item.seq === 3)?.at ?? "";
    expect(await seqs(`?since=${encodeURIComponent(third)}`)).toEqual([6, 5, 4, 3]);
    expect(await seqs(`?until=${encodeURIComponent(third)}`)).toEqual([2, 1]);
    expect(await seqs("?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z")).toEqual([]);
  });

  it("pages newest first with cursors that only work with the filters they came from", async () => {
    const { patient } = await patientWithHistory();
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: LogPage = await log(patient, `?actor=others&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((item) => item.seq));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([6, 4, 2, 1]);

    const first = await log(patient, "?limit=2");
    expect(first.items.map((item) => item.seq)).toEqual([6, 5]);
    const second = await log(patient, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((item) => item.seq)).toEqual([4, 3]);
    for (const other of ["?actor=me", "?role=clinician", "?since=2026-01-01T00:00:00Z"]) {
      const res = await call(app, `/v1/me/access-log${other}&limit=2&cursor=${first.nextCursor}`, { headers: patient.headers });
      await expectProblem(res, 400, "VALIDATION_FAILED");
    }
    await expectProblem(
      await call(app, "/v1/me/access-log?cursor=bm90LWEtY3Vyc29y", { headers: patient.headers }),
      400,
      "VALIDATION_FAILED",
    );
  });

  it("shows only the caller's own log: another user sees nothing of it, and cannot reach it by a filter", async () => {
    const { patient } = await patientWithHistory();
    const stranger = await createSessionUser();
    expect((await log(stranger)).items).toEqual([]);
    expect((await log(stranger, `?actor=${patient.user.id}`)).items).toEqual([]);
    // A cursor from the patient's log does not open the stranger's onto the patient's events.
    const first = await log(patient, "?limit=1");
    expect((await log(stranger, `?limit=1&cursor=${first.nextCursor}`)).items).toEqual([]);
  });

  it("names an actor whose account is gone 'a deleted account'", async () => {
    const { patient, clinician } = await patientWithHistory();
    await getDb(env.DB).update(users).set({ deletedAt: new Date() }).where(eq(users.id, clinician.user.id));
    const [latest] = (await log(patient)).items;
    expect(latest?.who).toEqual({
      kind: "deleted-account",
      id: clinician.user.id,
      role: "clinician",
      label: "a deleted account",
    });
  });

  it("answers bad queries with a 400 naming the parameter", async () => {
    const patient = await createSessionUser();
    for (const [query, path] of [
      ["?actor=everyone", "actor"],
      ["?actor=usr_short", "actor"],
      ["?role=wizard", "role"],
      ["?since=yesterday", "since"],
      ["?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until"],
      ["?limit=0", "limit"],
      ["?limit=101", "limit"],
      [`?cursor=${"a".repeat(201)}`, "cursor"],
      ["?subject=usr_x", "subject"],
    ] as const) {
      const res = await call(app, `/v1/me/access-log${query}`, { headers: patient.headers });
      expect(res.status, query).toBe(400);
      const body = await res.json<{ code: string; errors: { path: string }[] }>();
      expect(body.code).toBe("VALIDATION_FAILED");
      expect(body.errors.map((error) => error.path)).toContain(path);
    }
  });
});
