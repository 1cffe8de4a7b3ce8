import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { insertAuditEvent, listAuditEventsInOrder, readAuditTail } from "../../durable-objects/health-store/audit-log";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { SEAL_DELAY_BUSY_MS, SEAL_DELAY_MS, sealStore } from "../../durable-objects/health-store/seal";
import { chainAuditEvent, GENESIS_HASH } from "../../src/audit/chain";
import type { ChainedAuditEvent } from "../../src/audit/event";
import { sealSecurityChain, verifySecurityAudit } from "../../src/audit/seal/security";
import type { AuditFinding, AuditVerificationReport } from "../../src/audit/seal/verify";
import { appendSecurityEvent } from "../../src/audit/security-events";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import { securityEvents } from "../../src/db/schema";
import { type AuditSealRow, auditSeals } from "../../src/db/schema/audit-seals";
import { CRONS, runScheduled } from "../../src/scheduled/handler";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

const app = createTestApp();
const db = getDb(env.DB);
const YEAR_MS = 365.25 * 24 * 60 * 60 * 1000;

type Store = ReturnType<typeof healthStoreFor>;
type Stub = Store["stub"];

const storeContext = (userId: string) =>
  ({ actor: userId, role: "patient", reason: null, requestId: null, ip: null, subject: userId }) as const;

async function appendVia(store: Store, userId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await store.appendAuditEvent(
      { action: "observations.read", resource: `observations:${i}`, result: "success" },
      storeContext(userId),
    );
  }
}

/** Chained events written straight into the store's table: long or back-dated chains, fast. */
async function insertEvents(stub: Stub, userId: string, count: number, at: Date): Promise<void> {
  await runInDurableObject(stub, async (_instance, state) => {
    const sql = state.storage.sql;
    let tail = readAuditTail(sql);
    const events: ChainedAuditEvent[] = [];
    for (let i = 0; i < count; i++) {
      const event = await chainAuditEvent(tail, {
        ...storeContext(userId),
        at: new Date(at.getTime() + i).toISOString(),
        action: "observations.write",
        resource: `observations:${tail.seq}`,
        result: "success",
      });
      events.push(event);
      tail = { seq: event.seq, hash: event.hash };
    }
    state.storage.transactionSync(() => {
      sql.exec("INSERT OR IGNORE INTO store_meta (key, value) VALUES ('owner', ?)", userId);
      for (const event of events) insertAuditEvent(sql, event);
    });
  });
}

function storeSql(stub: Stub, statement: string, ...bindings: (string | number)[]): Promise<void> {
  return runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(statement, ...bindings);
  });
}

function sealsOf(chain: string): Promise<AuditSealRow[]> {
  return db.select().from(auditSeals).where(eq(auditSeals.chain, chain)).orderBy(asc(auditSeals.firstSeq));
}

async function sha256(input: string | Uint8Array): Promise<string> {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  return Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

async function objectBytes(key: string): Promise<Uint8Array> {
  const object = await env.LAKE.get(key);
  if (object === null) throw new Error(`no object ${key}`);
  return new Uint8Array(await object.arrayBuffer());
}

/** A user with events 1–5 and 6–8 sealed in two chunks, and 9–10 not sealed yet. */
async function sealedUser() {
  const userId = newId("usr");
  const store = healthStoreFor(env.HEALTH_STORE, userId);
  await appendVia(store, userId, 5);
  expect(await runDurableObjectAlarm(store.stub)).toBe(true);
  await appendVia(store, userId, 3);
  expect(await runDurableObjectAlarm(store.stub)).toBe(true);
  await appendVia(store, userId, 2);
  const seals = await sealsOf(userId);
  expect(seals.map((seal) => [seal.firstSeq, seal.lastSeq])).toEqual([
    [1, 5],
    [6, 8],
  ]);
  const verify = () => store.verifySealedAudit(userId);
  return { userId, store, stub: store.stub, seals, keys: seals.map((seal) => seal.r2Key), verify };
}

type UserFixture = Awaited<ReturnType<typeof sealedUser>>;

function expectBroken(report: AuditVerificationReport, finding: AuditFinding): void {
  expect(report.ok).toBe(false);
  expect(report.firstBroken).toEqual(finding);
}

describe("sealing a user's chain", () => {
  it("sets an alarm on the first append and seals every event into R2 with a chained seal row", async () => {
    const userId = newId("usr");
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    const before = Date.now();
    await appendVia(store, userId, 3);
    const alarm = await runInDurableObject(store.stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + SEAL_DELAY_MS);
    expect(alarm).toBeLessThanOrEqual(Date.now() + SEAL_DELAY_MS);

    expect(await runDurableObjectAlarm(store.stub)).toBe(true);
    const key = `audit/${userId}/000000000001-000000000003.json`;
    const listed = await env.LAKE.list({ prefix: `audit/${userId}/` });
    expect(listed.objects.map((object) => object.key)).toEqual([key]);

    const bytes = await objectBytes(key);
    const chunk = JSON.parse(new TextDecoder().decode(bytes));
    const live = (await store.accessLog({ limit: 10 })).items.reverse();
    expect(chunk).toEqual({
      format: "pulse-audit-chunk/1",
      chain: userId,
      firstSeq: 1,
      lastSeq: 3,
      prevSealHash: GENESIS_HASH,
      events: live,
    });
    const [seal] = await sealsOf(userId);
    if (seal === undefined) throw new Error("no seal row");
    const contentHash = await sha256(bytes);
    const lastEventHash = live[2]?.hash;
    expect(seal).toMatchObject({
      chain: userId,
      firstSeq: 1,
      lastSeq: 3,
      r2Key: key,
      contentHash,
      lastEventHash,
      prevSealHash: GENESIS_HASH,
    });
    const sealInput = [GENESIS_HASH, userId, 1, 3, contentHash, lastEventHash, seal.sealedAt.getTime()].join("\n");
    expect(seal.sealHash).toBe(await sha256(sealInput));
    // Nothing left to seal: no alarm until the next append.
    expect(await runInDurableObject(store.stub, (_instance, state) => state.storage.getAlarm())).toBeNull();
  });

  it("is idempotent: a run with nothing new seals nothing, and a run that lost its seal row re-puts the same bytes", async () => {
    const { userId, stub, seals } = await sealedUser();
    await runInDurableObject(stub, (instance) => instance.alarm());
    const sealed = await sealsOf(userId);
    expect(sealed.slice(0, 2)).toEqual(seals);
    const newest = sealed[2];
    expect(newest?.r2Key).toBe(`audit/${userId}/000000000009-000000000010.json`);
    await runInDurableObject(stub, (instance) => instance.alarm());
    expect(await sealsOf(userId)).toEqual(sealed);

    // As if the alarm failed between the R2 put and the D1 insert: the retry writes the same chunk.
    const bytes = await objectBytes(newest?.r2Key ?? "");
    await db.delete(auditSeals).where(eq(auditSeals.r2Key, newest?.r2Key ?? ""));
    await runInDurableObject(stub, (instance) => instance.alarm());
    const again = (await sealsOf(userId))[2];
    const { sealHash: _hash, sealedAt: _at, ...kept } = newest ?? ({} as AuditSealRow);
    expect(again).toMatchObject(kept);
    expect(await objectBytes(newest?.r2Key ?? "")).toEqual(bytes);
    expect((await env.LAKE.list({ prefix: `audit/${userId}/` })).objects).toHaveLength(3);
    expect((await healthStoreFor(env.HEALTH_STORE, userId).verifySealedAudit(userId)).ok).toBe(true);
  });

  it("cuts chunks of at most 1,000 events, and seals sooner once more than a chunk is waiting", async () => {
    const userId = newId("usr");
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    await appendVia(store, userId, 1);
    await insertEvents(store.stub, userId, 2_500, new Date());
    const before = Date.now();
    await appendVia(store, userId, 1);
    const alarm = await runInDurableObject(store.stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + SEAL_DELAY_BUSY_MS);
    expect(alarm).toBeLessThanOrEqual(Date.now() + SEAL_DELAY_BUSY_MS);

    expect(await runDurableObjectAlarm(store.stub)).toBe(true);
    const seals = await sealsOf(userId);
    expect(seals.map((seal) => seal.r2Key)).toEqual([
      `audit/${userId}/000000000001-000000001000.json`,
      `audit/${userId}/000000001001-000000002000.json`,
      `audit/${userId}/000000002001-000000002502.json`,
    ]);
    expect(seals.map((seal) => seal.prevSealHash)).toEqual([GENESIS_HASH, seals[0]?.sealHash, seals[1]?.sealHash]);
    const second = JSON.parse(new TextDecoder().decode(await objectBytes(seals[1]?.r2Key ?? "")));
    expect(second.events).toHaveLength(1_000);
    expect(second.events[0].seq).toBe(1_001);

    expect(await store.verifySealedAudit(userId)).toEqual({
      ok: true,
      chain: userId,
      eventsChecked: 2_502,
      chunksChecked: 3,
      sealedThroughSeq: 2_502,
      retainedThroughSeq: 0,
    });
  });

  it("works off a backlog over several alarms, each setting the next one right away", async () => {
    const userId = newId("usr");
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    await appendVia(store, userId, 1);
    await insertEvents(store.stub, userId, 20_500, new Date());
    expect(await runDurableObjectAlarm(store.stub)).toBe(true);
    expect(await sealsOf(userId)).toHaveLength(20);
    const next = await runInDurableObject(store.stub, (_instance, state) => state.storage.getAlarm());
    expect(next).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(await runDurableObjectAlarm(store.stub)).toBe(true);
    const seals = await sealsOf(userId);
    expect(seals.at(-1)).toMatchObject({ firstSeq: 20_001, lastSeq: 20_501 });
    expect(await runInDurableObject(store.stub, (_instance, state) => state.storage.getAlarm())).toBeNull();
  });
});

describe("verifying a user's chain", () => {
  it("reports an intact chain: sealed events compared, the unsealed tail recomputed", async () => {
    const { userId, verify } = await sealedUser();
    expect(await verify()).toEqual({
      ok: true,
      chain: userId,
      eventsChecked: 10,
      chunksChecked: 2,
      sealedThroughSeq: 8,
      retainedThroughSeq: 0,
    });
  });

  const tampers: [string, (f: UserFixture) => Promise<unknown>, (f: UserFixture) => AuditFinding][] = [
    [
      "an event's field edited",
      (f) => storeSql(f.stub, "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 3"),
      () => ({ seq: 3, problem: "event_altered" }),
    ],
    [
      "an event deleted",
      (f) => storeSql(f.stub, "DELETE FROM audit_events WHERE seq = 3"),
      () => ({ seq: 3, problem: "event_missing" }),
    ],
    [
      "two events swapped",
      async (f) => {
        await storeSql(f.stub, "UPDATE audit_events SET seq = 1000 WHERE seq = 3");
        await storeSql(f.stub, "UPDATE audit_events SET seq = 3 WHERE seq = 4");
        await storeSql(f.stub, "UPDATE audit_events SET seq = 4 WHERE seq = 1000");
      },
      () => ({ seq: 3, problem: "event_reordered" }),
    ],
    [
      "the tail truncated",
      (f) => storeSql(f.stub, "DELETE FROM audit_events WHERE seq >= 7"),
      () => ({ seq: 7, problem: "event_missing" }),
    ],
    [
      "the whole table emptied",
      (f) => storeSql(f.stub, "DELETE FROM audit_events"),
      () => ({ seq: 1, problem: "event_missing" }),
    ],
    ["the table dropped", (f) => storeSql(f.stub, "DROP TABLE audit_events"), () => ({ seq: 1, problem: "event_missing" })],
    [
      "an event rewritten with every later hash recomputed",
      (f) =>
        runInDurableObject(f.stub, async (_instance, state) => {
          const sql = state.storage.sql;
          const events = listAuditEventsInOrder(sql, { afterSeq: 0, limit: 100 });
          let tail = { seq: 1, hash: events[0]?.hash ?? "" };
          const rewritten: ChainedAuditEvent[] = [];
          for (const event of events.slice(1)) {
            const next = await chainAuditEvent(tail, { ...event, resource: event.seq === 2 ? "nothing-to-see" : event.resource });
            rewritten.push(next);
            tail = { seq: next.seq, hash: next.hash };
          }
          sql.exec("DELETE FROM audit_events WHERE seq >= 2");
          for (const event of rewritten) insertAuditEvent(sql, event);
        }),
      () => ({ seq: 2, problem: "event_altered" }),
    ],
    [
      "an unsealed event edited",
      (f) => storeSql(f.stub, "UPDATE audit_events SET result = 'denied' WHERE seq = 10"),
      () => ({ seq: 10, problem: "hash_mismatch" }),
    ],
    [
      "a chunk edited",
      async (f) => {
        const chunk = JSON.parse(new TextDecoder().decode(await objectBytes(f.keys[1] ?? "")));
        chunk.events[0].actor = "someone-else";
        await env.LAKE.put(f.keys[1] ?? "", JSON.stringify(chunk));
      },
      (f) => ({ seq: 6, chunk: f.keys[1], problem: "chunk_altered" }),
    ],
    ["a chunk deleted", (f) => env.LAKE.delete(f.keys[0] ?? ""), (f) => ({ seq: 1, chunk: f.keys[0], problem: "chunk_missing" })],
    [
      "a chunk replaced by a huge object",
      (f) => env.LAKE.put(f.keys[0] ?? "", new Uint8Array(9 * 1024 * 1024)),
      (f) => ({ seq: 1, chunk: f.keys[0], problem: "chunk_altered" }),
    ],
    [
      "the first seal row deleted",
      (f) => db.delete(auditSeals).where(eq(auditSeals.r2Key, f.keys[0] ?? "")),
      (f) => ({ seq: 1, chunk: f.keys[1], problem: "seal_broken" }),
    ],
    [
      "the newest seal row deleted",
      (f) => db.delete(auditSeals).where(eq(auditSeals.r2Key, f.keys[1] ?? "")),
      (f) => ({ seq: 6, chunk: f.keys[1], problem: "chunk_unsealed" }),
    ],
    [
      "a seal row edited",
      (f) =>
        db
          .update(auditSeals)
          .set({ lastSeq: 4 })
          .where(eq(auditSeals.r2Key, f.keys[0] ?? "")),
      (f) => ({ seq: 1, chunk: f.keys[0], problem: "seal_broken" }),
    ],
    [
      "a chunk deleted and its seal back-dated past retention",
      async (f) => {
        await env.LAKE.delete(f.keys[0] ?? "");
        await db
          .update(auditSeals)
          .set({ sealedAt: new Date(Date.now() - 8 * YEAR_MS) })
          .where(eq(auditSeals.r2Key, f.keys[0] ?? ""));
      },
      (f) => ({ seq: 1, chunk: f.keys[0], problem: "seal_broken" }),
    ],
  ];

  for (const [name, tamper, finding] of tampers) {
    it(`detects ${name}`, async () => {
      const fixture = await sealedUser();
      await tamper(fixture);
      expectBroken(await fixture.verify(), finding(fixture));
    });
  }
});

describe("retention of a user's chain", () => {
  it("drops sealed events and chunks past 7 years, keeps their seal rows, and verifies from the first chunk left", async () => {
    const userId = newId("usr");
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    await insertEvents(store.stub, userId, 4, new Date(Date.now() - 9 * YEAR_MS));
    // Sealed 8 years ago, as the alarm of the time did.
    await runInDurableObject(store.stub, (_instance, state) => sealStore(state.storage, env, new Date(Date.now() - 8 * YEAR_MS)));
    await insertEvents(store.stub, userId, 3, new Date(Date.now() - 7.5 * YEAR_MS));
    await appendVia(store, userId, 1);
    expect(await runDurableObjectAlarm(store.stub)).toBe(true);

    const live = await runInDurableObject(store.stub, (_instance, state) =>
      listAuditEventsInOrder(state.storage.sql, { afterSeq: 0, limit: 100 }).map((event) => event.seq),
    );
    expect(live).toEqual([8]);
    const seals = await sealsOf(userId);
    expect(seals.map((seal) => [seal.firstSeq, seal.lastSeq])).toEqual([
      [1, 4],
      [5, 8],
    ]);
    const objects = (await env.LAKE.list({ prefix: `audit/${userId}/` })).objects.map((object) => object.key);
    expect(objects).toEqual([seals[1]?.r2Key]);

    expect(await store.verifySealedAudit(userId)).toEqual({
      ok: true,
      chain: userId,
      eventsChecked: 1,
      chunksChecked: 1,
      sealedThroughSeq: 8,
      retainedThroughSeq: 4,
    });
    // A chunk sealed within 7 years is never expired.
    await env.LAKE.delete(seals[1]?.r2Key ?? "");
    expectBroken(await store.verifySealedAudit(userId), { seq: 5, chunk: seals[1]?.r2Key, problem: "chunk_missing" });
  });
});

async function appendSecurity(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await appendSecurityEvent(db, {
      actor: "usr_test",
      role: "patient",
      reason: null,
      requestId: null,
      ip: "10.1.2.3",
      action: "session.create",
      resource: `session:${i}`,
      subject: "usr_test",
      result: "success",
    });
  }
}

/**
 * D1 and R2 are shared by the tests of a file: the security chain tests each start from an empty
 * chain (this file's storage is its own, so no other file sees this).
 */
async function resetSecurityChain(): Promise<void> {
  await db.delete(securityEvents);
  await db.delete(auditSeals).where(eq(auditSeals.chain, "security"));
  const listed = await env.LAKE.list({ prefix: "audit/security/" });
  if (listed.objects.length > 0) await env.LAKE.delete(listed.objects.map((object) => object.key));
}

/** The security chain with events 1–5 and 6–8 sealed in two chunks, and 9–10 not sealed yet. */
async function sealedSecurity() {
  await resetSecurityChain();
  await appendSecurity(5);
  await sealSecurityChain(env);
  await appendSecurity(3);
  await sealSecurityChain(env);
  await appendSecurity(2);
  const seals = await sealsOf("security");
  expect(seals.map((seal) => [seal.firstSeq, seal.lastSeq])).toEqual([
    [1, 5],
    [6, 8],
  ]);
  return { seals, keys: seals.map((seal) => seal.r2Key) };
}

type SecurityFixture = Awaited<ReturnType<typeof sealedSecurity>>;

const d1 = (statement: string) => env.DB.prepare(statement).run();

describe("the security chain", () => {
  it("is sealed by the hourly job into hash-only chunks, idempotently", async () => {
    const { keys, seals } = await sealedSecurity();
    expect(keys).toEqual(["audit/security/000000000001-000000000005.json", "audit/security/000000000006-000000000008.json"]);
    const text = new TextDecoder().decode(await objectBytes(keys[0] ?? ""));
    const chunk = JSON.parse(text);
    expect(chunk).toMatchObject({
      format: "pulse-audit-chunk/1",
      chain: "security",
      firstSeq: 1,
      lastSeq: 5,
      prevSealHash: GENESIS_HASH,
    });
    const rows = await db.select().from(securityEvents).orderBy(asc(securityEvents.seq)).limit(5);
    expect(chunk.events).toEqual(rows.map((row) => ({ seq: row.seq, prevHash: row.prevHash, hash: row.hash })));
    // What account deletion erases never reaches R2.
    expect(text).not.toContain("usr_test");
    expect(text).not.toContain("10.1.2.3");

    const run = await sealSecurityChain(env);
    expect(run.chunks).toEqual(["audit/security/000000000009-000000000010.json"]);
    expect((await sealSecurityChain(env)).chunks).toEqual([]);
    expect((await sealsOf("security")).slice(0, 2)).toEqual(seals);
  });

  it("is sealed by the hourly cron", async () => {
    await resetSecurityChain();
    await appendSecurity(3);
    const result = await runScheduled(CRONS.hourly, new Date(), env);
    expect(result.ran).toContain("sealSecurityChain");
    expect((await sealsOf("security")).map((seal) => seal.r2Key)).toEqual(["audit/security/000000000001-000000000003.json"]);
  });

  it("verifies when intact", async () => {
    await sealedSecurity();
    expect(await verifySecurityAudit(env)).toEqual({
      ok: true,
      chain: "security",
      eventsChecked: 10,
      chunksChecked: 2,
      sealedThroughSeq: 8,
      retainedThroughSeq: 0,
    });
  });

  const tampers: [string, (f: SecurityFixture) => Promise<unknown>, (f: SecurityFixture) => AuditFinding][] = [
    [
      "a row's field edited",
      () => d1("UPDATE security_events SET ip = '10.9.9.9' WHERE seq = 3"),
      () => ({ seq: 3, problem: "event_altered" }),
    ],
    ["a row deleted", () => d1("DELETE FROM security_events WHERE seq = 3"), () => ({ seq: 3, problem: "event_missing" })],
    [
      "two rows swapped",
      async () => {
        await d1("UPDATE security_events SET seq = 1000 WHERE seq = 3");
        await d1("UPDATE security_events SET seq = 3 WHERE seq = 4");
        await d1("UPDATE security_events SET seq = 4 WHERE seq = 1000");
      },
      () => ({ seq: 3, problem: "event_reordered" }),
    ],
    ["the tail truncated", () => d1("DELETE FROM security_events WHERE seq >= 7"), () => ({ seq: 7, problem: "event_missing" })],
    ["the whole table emptied", () => d1("DELETE FROM security_events"), () => ({ seq: 1, problem: "event_missing" })],
    [
      "an unsealed row edited",
      () => d1("UPDATE security_events SET action = 'session.revoke' WHERE seq = 10"),
      () => ({ seq: 10, problem: "hash_mismatch" }),
    ],
    [
      "a chunk edited",
      async (f) => {
        const chunk = JSON.parse(new TextDecoder().decode(await objectBytes(f.keys[1] ?? "")));
        chunk.events.pop();
        await env.LAKE.put(f.keys[1] ?? "", JSON.stringify(chunk));
      },
      (f) => ({ seq: 6, chunk: f.keys[1], problem: "chunk_altered" }),
    ],
    ["a chunk deleted", (f) => env.LAKE.delete(f.keys[1] ?? ""), (f) => ({ seq: 6, chunk: f.keys[1], problem: "chunk_missing" })],
    [
      "the first seal row deleted",
      (f) => db.delete(auditSeals).where(eq(auditSeals.r2Key, f.keys[0] ?? "")),
      (f) => ({ seq: 1, chunk: f.keys[1], problem: "seal_broken" }),
    ],
    [
      "the newest seal row deleted",
      (f) => db.delete(auditSeals).where(eq(auditSeals.r2Key, f.keys[1] ?? "")),
      (f) => ({ seq: 6, chunk: f.keys[1], problem: "chunk_unsealed" }),
    ],
    [
      "a seal row edited",
      (f) =>
        db
          .update(auditSeals)
          .set({ contentHash: "0".repeat(64) })
          .where(eq(auditSeals.r2Key, f.keys[1] ?? "")),
      (f) => ({ seq: 6, chunk: f.keys[1], problem: "seal_broken" }),
    ],
  ];

  for (const [name, tamper, finding] of tampers) {
    it(`detects ${name}`, async () => {
      const fixture = await sealedSecurity();
      await tamper(fixture);
      expectBroken(await verifySecurityAudit(env), finding(fixture));
    });
  }
});

describe("GET /v1/audit/verify", () => {
  const get = (headers: Record<string, string>, query = "") => call(app, `/v1/audit/verify${query}`, { headers });

  it("verifies the security chain for an auditor and records the verification", async () => {
    await resetSecurityChain();
    const auditor = await createSessionUser({ role: "auditor" });
    await sealSecurityChain(env);
    const res = await get(auditor.headers);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toContain("no-store");
    const report = await res.json<AuditVerificationReport>();
    expect(report).toMatchObject({ ok: true, chain: "security", chunksChecked: 1 });
    expect(report.sealedThroughSeq).toBeGreaterThan(0);
    const [last] = await db.select().from(securityEvents).orderBy(asc(securityEvents.seq)).limit(1).offset(report.eventsChecked);
    expect(last).toMatchObject({ action: "audit.verify", actor: auditor.user.id, role: "auditor", resource: "audit:security" });
  });

  it("verifies a user's chain, and answers a broken one with 200 and the finding", async () => {
    const auditor = await createSessionUser({ role: "auditor" });
    const patient = await createSessionUser();
    const store = healthStoreFor(env.HEALTH_STORE, patient.user.id);
    await appendVia(store, patient.user.id, 4);
    expect(await runDurableObjectAlarm(store.stub)).toBe(true);

    const res = await get(auditor.headers, `?userId=${patient.user.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ok: true,
      chain: patient.user.id,
      eventsChecked: 4,
      chunksChecked: 1,
      sealedThroughSeq: 4,
      retainedThroughSeq: 0,
    });
    const events = await db.select().from(securityEvents).where(eq(securityEvents.subject, patient.user.id));
    expect(events.filter((event) => event.action === "audit.verify")).toMatchObject([
      { actor: auditor.user.id, resource: `audit:user:${patient.user.id}` },
    ]);

    await storeSql(store.stub, "DELETE FROM audit_events WHERE seq = 2");
    const broken = await get(auditor.headers, `?userId=${patient.user.id}`);
    expect(broken.status).toBe(200);
    expect(await broken.json()).toMatchObject({ ok: false, firstBroken: { seq: 2, problem: "event_missing" } });
  });

  it("answers 404 for an unknown or malformed user id, 400 for a huge one or an unknown parameter", async () => {
    const auditor = await createSessionUser({ role: "auditor" });
    await expectProblem(await get(auditor.headers, `?userId=${newId("usr")}`), 404, "NOT_FOUND");
    await expectProblem(await get(auditor.headers, "?userId=not-a-user"), 404, "NOT_FOUND");
    await expectProblem(await get(auditor.headers, `?userId=usr_${"a".repeat(200)}`), 400, "VALIDATION_FAILED");
    await expectProblem(await get(auditor.headers, "?chain=security"), 400, "VALIDATION_FAILED");
  });

  it("refuses every role but auditor, even for the caller's own chain", async () => {
    for (const role of ["patient", "admin", "clinician"] as const) {
      const user = await createSessionUser({ role });
      await expectProblem(await get(user.headers, `?userId=${user.user.id}`), 403, "FORBIDDEN");
    }
  });
});
