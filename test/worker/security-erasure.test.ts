/**
 * The D1 security chain's salted commitments (src/audit/commitments.ts) and erasure
 * (src/audit/erase.ts): erased events keep the chain verifiable, tampering is still detected on
 * intact, erased and legacy events alike, and erasure touches only the user's events.
 */
import { env } from "cloudflare:workers";
import { desc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { chainAuditEvent } from "../../src/audit/chain";
import { commitment } from "../../src/audit/commitments";
import { eraseSecurityEventsOf } from "../../src/audit/erase";
import type { AuditDraft } from "../../src/audit/event";
import { pseudonymOf } from "../../src/audit/pseudonym";
import { appendSecurityEvent } from "../../src/audit/security-events";
import { verifySecurityChain } from "../../src/audit/verify-security-chain";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import { securityEvents } from "../../src/db/schema";

const db = getDb(env.DB);

function draft(userId: string, overrides: Partial<AuditDraft> = {}): AuditDraft {
  return {
    actor: userId,
    role: "patient",
    action: "auth.login",
    resource: `passkey:${userId}-key`,
    subject: userId,
    reason: null,
    result: "success",
    requestId: "req-1",
    ip: "203.0.113.7",
    ...overrides,
  };
}

async function row(seq: number) {
  const [stored] = await db.select().from(securityEvents).where(eq(securityEvents.seq, seq));
  if (!stored) throw new Error(`no event ${seq}`);
  return stored;
}

describe("security chain: salted commitments and erasure", () => {
  it("stores new events with a salt and their plain fields, and hashes the commitments", async () => {
    const userId = newId("usr");
    const { event } = await appendSecurityEvent(db, draft(userId));
    const stored = await row(event.seq);
    expect(stored).toMatchObject({ actor: userId, subject: userId, ip: "203.0.113.7", erasedAt: null });
    expect(stored.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(await verifySecurityChain(db)).toMatchObject({ ok: true });
    // A changed personal field no longer matches its commitment.
    await db.update(securityEvents).set({ ip: "198.51.100.1" }).where(eq(securityEvents.seq, event.seq));
    expect(await verifySecurityChain(db)).toMatchObject({ ok: false, brokenAt: event.seq, problem: "hash_mismatch" });
    await db.update(securityEvents).set({ ip: "203.0.113.7" }).where(eq(securityEvents.seq, event.seq));
    expect((await verifySecurityChain(db)).ok).toBe(true);
  });

  it("erases the user's events as actor or subject, only theirs, and the chain still verifies", async () => {
    const ada = newId("usr");
    const bob = newId("usr");
    const own = await appendSecurityEvent(db, draft(ada));
    const byAdmin = await appendSecurityEvent(db, draft("usr_admin", { role: "admin", subject: ada, resource: `user:${ada}` }));
    const bobs = await appendSecurityEvent(db, draft(bob, { reason: "not about ada" }));

    const salt = (await row(own.event.seq)).salt ?? "";
    expect(await eraseSecurityEventsOf(db, ada)).toEqual({ erased: 2, legacy: 0 });

    const erased = await row(own.event.seq);
    expect(erased).toMatchObject({
      salt: null,
      erasedAt: expect.any(Date),
      actor: await commitment(salt, "actor", ada),
      subject: await commitment(salt, "subject", ada),
      resource: await commitment(salt, "resource", `passkey:${ada}-key`),
      reason: null,
      ip: await commitment(salt, "ip", "203.0.113.7"),
      action: "auth.login",
      role: "patient",
      requestId: "req-1",
      hash: own.event.hash,
    });
    expect(JSON.stringify(await row(byAdmin.event.seq))).not.toContain(ada);
    expect(await row(bobs.event.seq)).toMatchObject({ actor: bob, reason: "not about ada", erasedAt: null });
    expect(await verifySecurityChain(db)).toMatchObject({ ok: true });

    // Idempotent: nothing left to erase.
    expect(await eraseSecurityEventsOf(db, ada)).toEqual({ erased: 0, legacy: 0 });
    // An erased event that is altered afterwards is detected like any other.
    await db.update(securityEvents).set({ result: "denied" }).where(eq(securityEvents.seq, own.event.seq));
    expect(await verifySecurityChain(db)).toMatchObject({ ok: false, brokenAt: own.event.seq, problem: "hash_mismatch" });
    await db.update(securityEvents).set({ result: "success" }).where(eq(securityEvents.seq, own.event.seq));
    expect((await verifySecurityChain(db)).ok).toBe(true);
  });

  it("verifies events written before commitments by their plain fields, and leaves them when erasing", async () => {
    const ada = newId("usr");
    const [tail] = await db
      .select({ seq: securityEvents.seq, hash: securityEvents.hash })
      .from(securityEvents)
      .orderBy(desc(securityEvents.seq))
      .limit(1);
    const legacy = await chainAuditEvent(tail ?? { seq: 0, hash: "0".repeat(64) }, {
      ...draft(ada),
      at: new Date().toISOString(),
    });
    await db.insert(securityEvents).values({ ...legacy, salt: null, erasedAt: null });
    expect(await verifySecurityChain(db)).toMatchObject({ ok: true });
    expect(await eraseSecurityEventsOf(db, ada)).toEqual({ erased: 0, legacy: 1 });
    expect((await verifySecurityChain(db)).ok).toBe(true);
  });

  it("derives a stable keyed pseudonym", async () => {
    const key = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
    const other = btoa(String.fromCharCode(...new Uint8Array(32).fill(8)));
    const id = newId("usr");
    const pseudonym = await pseudonymOf(key, id);
    expect(pseudonym).toMatch(/^psn_[0-9a-f]{64}$/);
    expect(await pseudonymOf(key, id)).toBe(pseudonym);
    expect(await pseudonymOf(other, id)).not.toBe(pseudonym);
    expect(pseudonym).not.toContain(id.slice(4));
  });
});
