import { env } from "cloudflare:workers";
import { eq, gt } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/audit/canonical";
import { chainAuditEvent, GENESIS_HASH, verifyChain } from "../../src/audit/chain";
import type { AuditDraft, AuditEvent, ChainedAuditEvent } from "../../src/audit/event";
import { appendSecurityEvent } from "../../src/audit/security-events";
import { verifySecurityChain } from "../../src/audit/verify-security-chain";
import { getDb } from "../../src/db/client";
import { securityEvents } from "../../src/db/schema";

const FIRST: AuditEvent = {
  seq: 1,
  at: "2026-01-01T00:00:00.000Z",
  actor: "system",
  role: "system",
  action: "user.create",
  resource: "user:usr_a",
  subject: "usr_a",
  reason: null,
  result: "success",
  requestId: "req-1",
  ip: null,
};

async function buildChain(length: number): Promise<ChainedAuditEvent[]> {
  const events: ChainedAuditEvent[] = [];
  let tail = { seq: 0, hash: GENESIS_HASH };
  for (let i = 0; i < length; i++) {
    const event = await chainAuditEvent(tail, { ...FIRST, requestId: `req-${i + 1}` });
    events.push(event);
    tail = { seq: event.seq, hash: event.hash };
  }
  return events;
}

describe("canonical JSON", () => {
  it("sorts keys at every depth, drops whitespace and writes undefined as null", () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [true, "x", null] } })).toBe('{"a":{"c":[true,"x",null],"d":null},"b":1}');
  });

  it("is the same whatever order the properties were built in", () => {
    expect(canonicalJson({ x: 1, y: "é" })).toBe(canonicalJson({ y: "é", x: 1 }));
  });

  it("refuses numbers JSON cannot represent", () => {
    expect(() => canonicalJson({ value: Number.NaN })).toThrow(TypeError);
  });
});

describe("hash chain", () => {
  it("hashes SHA-256(prevHash || canonical event) from a genesis of 64 zeros", async () => {
    // Independent vector: Python hashlib.sha256(("0"*64 + canonical).encode()).hexdigest().
    const event = await chainAuditEvent({ seq: 0, hash: GENESIS_HASH }, FIRST);
    expect(event.seq).toBe(1);
    expect(event.prevHash).toBe(GENESIS_HASH);
    expect(event.hash).toBe("91b4a2885cf51ea0542396bd63d21619f0dbae0ff7a91900c236d41811063ffb");
  });

  it("verifies an intact chain and reports its head", async () => {
    const events = await buildChain(5);
    expect(await verifyChain(events)).toEqual({ ok: true, count: 5, head: { seq: 5, hash: events[4]?.hash } });
  });

  it("reports the first seq whose content was changed", async () => {
    const events = await buildChain(5);
    const tampered = events.map((event) => (event.seq === 3 ? { ...event, actor: "usr_mallory" } : event));
    expect(await verifyChain(tampered)).toMatchObject({ ok: false, brokenAt: 3, problem: "hash_mismatch", count: 2 });
  });

  it("reports a removed event and a re-linked forgery", async () => {
    const events = await buildChain(5);
    const withoutThird = events.filter((event) => event.seq !== 3);
    expect(await verifyChain(withoutThird)).toMatchObject({ ok: false, brokenAt: 3, problem: "seq_gap" });

    const second = events[1];
    if (second === undefined) throw new Error("chain too short");
    const forged = await chainAuditEvent({ seq: 1, hash: "f".repeat(64) }, { ...second, actor: "usr_mallory" });
    const relinked = events.map((event) => (event.seq === 2 ? forged : event));
    expect(await verifyChain(relinked)).toMatchObject({ ok: false, brokenAt: 2, problem: "prev_hash_mismatch" });
  });

  it("continues from an anchor, so a chain can be verified page by page", async () => {
    const events = await buildChain(4);
    const anchor = { seq: 2, hash: events[1]?.hash ?? "" };
    expect(await verifyChain(events.slice(2), anchor)).toMatchObject({ ok: true, count: 2, head: { seq: 4 } });
  });
});

describe("D1 security chain", () => {
  const db = getDb(env.DB);
  const draft = (requestId: string): AuditDraft => ({
    actor: "system",
    role: "system",
    action: "session.revoke",
    resource: "session:test",
    subject: null,
    reason: null,
    result: "success",
    requestId,
    ip: null,
  });

  it("keeps 20 concurrent appends gap-free and verifiable", async () => {
    const start = await db.$count(securityEvents);
    const requestIds = Array.from({ length: 20 }, (_, i) => `concurrent-${i}`);

    const appended = await Promise.all(requestIds.map((id) => appendSecurityEvent(db, draft(id))));

    const stored = await db.select().from(securityEvents).where(gt(securityEvents.seq, start));
    expect(stored.map((row) => row.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => start + i + 1));
    expect(stored.map((row) => row.requestId).sort()).toEqual([...requestIds].sort());
    expect(appended.map((result) => result.event.seq).sort((a, b) => a - b)).toEqual(
      stored.map((row) => row.seq).sort((a, b) => a - b),
    );
    expect(await verifySecurityChain(db)).toMatchObject({ ok: true, count: start + 20 });
  });

  it("returns the recorded writes' results from the same batch", async () => {
    const { event, results } = await appendSecurityEvent(db, draft("with-write"), [
      db.select({ seq: securityEvents.seq }).from(securityEvents).where(eq(securityEvents.requestId, "with-write")),
    ]);
    // The batch is one transaction: the event inserted first is visible to the read after it.
    expect(results).toEqual([[{ seq: event.seq }]]);
  });

  it("detects a stored row that was altered afterwards", async () => {
    await appendSecurityEvent(db, draft("victim"));
    const { event } = await appendSecurityEvent(db, draft("after-victim"));
    const [victim] = await db.select().from(securityEvents).where(eq(securityEvents.requestId, "victim"));
    if (victim === undefined) throw new Error("event not stored");

    expect(event.seq).toBe(victim.seq + 1);

    await db.update(securityEvents).set({ result: "denied" }).where(eq(securityEvents.seq, victim.seq));
    try {
      expect(await verifySecurityChain(db)).toMatchObject({ ok: false, brokenAt: victim.seq, problem: "hash_mismatch" });
    } finally {
      await db.update(securityEvents).set({ result: victim.result }).where(eq(securityEvents.seq, victim.seq));
    }
    expect((await verifySecurityChain(db)).ok).toBe(true);
  });
});
