import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { verifyChain } from "../../src/audit/chain";
import { securityEventHash } from "../../src/audit/commitments";
import type { ChainedAuditEvent } from "../../src/audit/event";
import { getDb } from "../../src/db/client";
import { users } from "../../src/db/schema";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * The auditor's routes: the D1 security chain, and one user's HealthStore chain read with a reason.
 * Both reads are recorded in the chain they read, so no look goes unseen.
 */
const app = createTestApp();
const T0 = Date.UTC(2026, 10, 1, 8);

type SecurityEvent = ChainedAuditEvent & { salt: string | null; erasedAt: string | null };
type Page<T> = { items: T[]; nextCursor: string | null };

async function get(user: SessionUser, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return call(app, path, { headers: { ...user.headers, ...headers } });
}

async function securityPage(auditor: SessionUser, query: string): Promise<Page<SecurityEvent>> {
  const res = await get(auditor, `/v1/audit/security${query}`);
  expect(res.status).toBe(200);
  return res.json<Page<SecurityEvent>>();
}

/** A patient with one upload written and two reads: three events in their chain. */
async function patientWithEvents(): Promise<SessionUser> {
  const patient = await createSessionUser();
  const store = healthStoreFor(env.HEALTH_STORE, patient.user.id);
  const as = {
    actor: patient.user.id,
    role: "patient" as const,
    reason: null,
    requestId: null,
    ip: null,
    subject: patient.user.id,
  };
  await store.ingest([observationInput("heart_rate", "bpm", T0, 60)], as);
  await store.queryObservations({ metric: "heart_rate" }, as);
  await store.latest(["heart_rate"], as);
  return patient;
}

describe("GET /v1/audit/security", () => {
  it("lists the security chain newest first with hashes, and records the auditor's read in it", async () => {
    const auditor = await createSessionUser({ role: "auditor" });
    const subject = await createSessionUser();

    const first = await securityPage(auditor, `?subject=${subject.user.id}`);
    // The user's creation and the auditor's read of it (same batch, so it is in its own page).
    expect(first.items.map((event) => event.action)).toEqual(["audit.read", "user.create"]);
    const [read, created] = first.items;
    expect(read).toMatchObject({ actor: auditor.user.id, role: "auditor", subject: subject.user.id, result: "success" });
    expect(read?.resource).toBe("security_events");
    expect(created).toMatchObject({ subject: subject.user.id, resource: `user:${subject.user.id}`, erasedAt: null });
    expect(created?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(read?.seq).toBeGreaterThan(created?.seq ?? Number.POSITIVE_INFINITY);

    // Each event is exactly as chained: with its salt, it hashes to its stored hash.
    expect(created?.salt).toMatch(/^[0-9a-f]+$/);
    if (created === undefined) throw new Error("no user.create event");
    const stored = { ...created, erasedAt: null };
    const link = await verifyChain([stored], { seq: stored.seq - 1, hash: stored.prevHash }, securityEventHash);
    expect(link.ok).toBe(true);

    const again = await securityPage(auditor, `?subject=${subject.user.id}&action=audit.read`);
    expect(again.items.map((event) => event.actor)).toEqual([auditor.user.id, auditor.user.id]);
  });

  it("filters by actor, action and time, pages with cursors bound to the filters", async () => {
    const auditor = await createSessionUser({ role: "auditor" });
    for (let i = 0; i < 3; i++) await securityPage(auditor, `?actor=${auditor.user.id}&limit=1`);
    const mine = await securityPage(auditor, `?actor=${auditor.user.id}&action=audit.read&limit=2`);
    expect(mine.items).toHaveLength(2);
    expect(mine.items.every((event) => event.actor === auditor.user.id && event.action === "audit.read")).toBe(true);
    const rest = await securityPage(auditor, `?actor=${auditor.user.id}&action=audit.read&limit=2&cursor=${mine.nextCursor}`);
    // Five reads in all (this one included); the cursor continues below the second page's last.
    const [second = 0, last = 0] = rest.items.map((event) => event.seq);
    expect(rest.items).toHaveLength(2);
    expect(second).toBeLessThan(mine.items[1]?.seq ?? 0);
    expect(last).toBeLessThan(second);
    expect(rest.nextCursor).toBeNull();

    await expectProblem(
      await get(auditor, `/v1/audit/security?action=audit.read&limit=2&cursor=${mine.nextCursor}`),
      400,
      "VALIDATION_FAILED",
    );
    const past = await securityPage(auditor, `?actor=${auditor.user.id}&until=2000-01-01T00:00:00Z`);
    expect(past.items).toEqual([]);
    const since = mine.items[1]?.at ?? "";
    const recent = await securityPage(auditor, `?actor=${auditor.user.id}&action=audit.read&since=${encodeURIComponent(since)}`);
    expect(recent.items.every((event) => event.at >= since)).toBe(true);
  });

  it("refuses every role but auditor, and bad filters", async () => {
    for (const role of ["patient", "clinician", "admin"] as const) {
      const user = await createSessionUser({ role });
      await expectProblem(await get(user, "/v1/audit/security"), 403, "FORBIDDEN");
    }
    const auditor = await createSessionUser({ role: "auditor" });
    for (const query of ["?subject=bob", "?action=read", "?since=soon", "?limit=500", "?userId=usr_x"]) {
      await expectProblem(await get(auditor, `/v1/audit/security${query}`), 400, "VALIDATION_FAILED");
    }
  });
});

describe("GET /v1/audit/users/{userId}", () => {
  it("returns the raw chain with a reason, and records the read in that chain, seen by the user", async () => {
    const auditor = await createSessionUser({ role: "auditor" });
    const patient = await patientWithEvents();

    const res = await get(auditor, `/v1/audit/users/${patient.user.id}`, { "X-Access-Reason": "Incident INC-42 review" });
    expect(res.status).toBe(200);
    const page = await res.json<Page<ChainedAuditEvent>>();
    // The page is what the chain held before this read: the read is added after it, in the same transaction.
    expect(page.items.map((event) => [event.seq, event.action])).toEqual([
      [3, "observations.read"],
      [2, "observations.read"],
      [1, "observations.write"],
    ]);
    expect(page.items[0]).toMatchObject({ resource: "latest;m=heart_rate", actor: patient.user.id, subject: patient.user.id });
    expect(page.items[0]?.prevHash).toBe(page.items[1]?.hash);

    const store = healthStoreFor(env.HEALTH_STORE, patient.user.id);
    const [recorded] = (await store.accessLog({ limit: 1 })).items;
    expect(recorded).toMatchObject({
      seq: 4,
      action: "audit.read",
      resource: "audit",
      actor: auditor.user.id,
      role: "auditor",
      reason: "Incident INC-42 review",
      requestId: res.headers.get("X-Request-Id"),
    });
    expect(await store.verifyAudit()).toMatchObject({ ok: true, count: 4 });

    const log = await (await get(patient, "/v1/me/access-log?limit=1")).json<
      Page<{ who: { label: string }; description: string }>
    >();
    expect(log.items[0]).toMatchObject({
      who: { label: "an auditor" },
      description: "Reviewed the record of access to your data",
      reason: "Incident INC-42 review",
    });
  });

  it("filters by action and time and pages, each page recorded", async () => {
    const auditor = await createSessionUser({ role: "auditor" });
    const patient = await patientWithEvents();
    const reason = { "X-Access-Reason": "quarterly access review" };
    const path = `/v1/audit/users/${patient.user.id}`;

    const reads = await (await get(auditor, `${path}?action=observations.read&limit=1`, reason)).json<Page<ChainedAuditEvent>>();
    expect(reads.items.map((event) => event.seq)).toEqual([3]);
    const next = await (await get(auditor, `${path}?action=observations.read&limit=1&cursor=${reads.nextCursor}`, reason)).json<
      Page<ChainedAuditEvent>
    >();
    expect(next.items.map((event) => event.seq)).toEqual([2]);
    await expectProblem(await get(auditor, `${path}?limit=1&cursor=${reads.nextCursor}`, reason), 400, "VALIDATION_FAILED");

    const none = await (await get(auditor, `${path}?until=2000-01-01T00:00:00Z`, reason)).json<Page<ChainedAuditEvent>>();
    expect(none.items).toEqual([]);
    const audits = await (await get(auditor, `${path}?action=audit.read`, reason)).json<Page<ChainedAuditEvent>>();
    // Three successful reads above, recorded with the period asked for when there was one.
    expect(audits.items.map((event) => event.resource)).toEqual(["audit;p=../2000-01-01T00:00:00.000Z", "audit", "audit"]);
  });

  it("requires a reason of 1 to 200 printable characters", async () => {
    const auditor = await createSessionUser({ role: "auditor" });
    const patient = await patientWithEvents();
    const path = `/v1/audit/users/${patient.user.id}`;
    const missing = await get(auditor, path);
    await expectProblem(missing.clone(), 400, "VALIDATION_FAILED");
    const { errors } = await missing.json<{ errors: { path: string; message: string }[] }>();
    expect(errors).toEqual([{ path: "x-access-reason", message: expect.stringMatching(/^required: why you read/) }]);
    for (const reason of ["   ", "x".repeat(201)]) {
      await expectProblem(await get(auditor, path, { "X-Access-Reason": reason }), 400, "VALIDATION_FAILED");
    }
    expect((await get(auditor, path, { "X-Access-Reason": "x".repeat(200) })).status).toBe(200);
    // Refused requests left no trace in the chain; the accepted one did.
    const chain = await healthStoreFor(env.HEALTH_STORE, patient.user.id).accessLog({ action: "audit.read" });
    expect(chain.items).toHaveLength(1);
  });

  it("answers 404 for an unknown, malformed or deleted user without creating their store", async () => {
    const auditor = await createSessionUser({ role: "auditor" });
    const reason = { "X-Access-Reason": "investigation" };
    const unknown = `usr_${"z".repeat(26)}`;
    const deleted = await createSessionUser();
    await getDb(env.DB).update(users).set({ deletedAt: new Date() }).where(eq(users.id, deleted.user.id));

    for (const id of [unknown, "usr_short", "not-a-user", deleted.user.id, "%20"]) {
      await expectProblem(await get(auditor, `/v1/audit/users/${id}`, reason), 404, "NOT_FOUND");
    }
    const existing = await patientWithEvents();
    const created = (await listDurableObjectIds(env.HEALTH_STORE)).map((id) => id.toString());
    expect(created).toContain(env.HEALTH_STORE.idFromName(existing.user.id).toString());
    for (const name of [unknown, deleted.user.id]) {
      expect(created).not.toContain(env.HEALTH_STORE.idFromName(name).toString());
    }
  });

  it("refuses every role but auditor, even for the user's own chain", async () => {
    const patient = await patientWithEvents();
    const reason = { "X-Access-Reason": "curious" };
    await expectProblem(await get(patient, `/v1/audit/users/${patient.user.id}`, reason), 403, "FORBIDDEN");
    for (const role of ["clinician", "admin", "researcher"] as const) {
      const user = await createSessionUser({ role });
      await expectProblem(await get(user, `/v1/audit/users/${patient.user.id}`, reason), 403, "FORBIDDEN");
    }
    const chain = await healthStoreFor(env.HEALTH_STORE, patient.user.id).accessLog({ action: "audit.read" });
    expect(chain.items).toEqual([]);
  });
});
