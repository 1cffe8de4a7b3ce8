import { env } from "cloudflare:workers";
import { and, desc, eq, ne } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { grantRoleSql, lookupStatements, canonicalJson as scriptCanonicalJson } from "../../scripts/grant-admin-sql.mjs";
import { canonicalJson } from "../../src/audit/canonical";
import { verifySecurityChain } from "../../src/audit/verify-security-chain";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import { securityEvents, users } from "../../src/db/schema";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

const app = createTestApp();
const db = getDb(env.DB);
const UNKNOWN_USER = `usr_${"a".repeat(26)}`;

interface UserView {
  id: string;
  username: string;
  displayName: string;
  role: string;
  createdAt: string;
}

function setRole(caller: SessionUser, userId: string, body: unknown): Promise<Response> {
  return call(app, `/v1/admin/users/${userId}/role`, {
    method: "PUT",
    headers: { ...caller.headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function roleOf(userId: string): Promise<string | undefined> {
  const [row] = await db.select({ role: users.role }).from(users).where(eq(users.id, userId));
  return row?.role;
}

function roleEvents(userId: string) {
  return db
    .select()
    .from(securityEvents)
    .where(and(eq(securityEvents.subject, userId), eq(securityEvents.action, "user.role_change")))
    .orderBy(desc(securityEvents.seq));
}

/** Leaves `admin` as the only admin of this test file's database (storage is per file). */
async function makeSoleAdmin(admin: SessionUser): Promise<void> {
  await db
    .update(users)
    .set({ role: "patient" })
    .where(and(eq(users.role, "admin"), ne(users.id, admin.user.id)));
}

describe("PUT /v1/admin/users/:id/role", () => {
  it("changes the role and records who did it, from what to what", async () => {
    const admin = await createSessionUser({ role: "admin" });
    const target = await createSessionUser();
    const res = await setRole(admin, target.user.id, { role: "clinician", reason: "joined the clinic" });
    expect(res.status).toBe(200);
    expect(await res.json<UserView>()).toEqual({
      id: target.user.id,
      username: target.user.username,
      displayName: target.user.displayName,
      role: "clinician",
      createdAt: target.user.createdAt.toISOString(),
    });
    expect(await roleOf(target.user.id)).toBe("clinician");
    const [event] = await roleEvents(target.user.id);
    expect(event).toMatchObject({
      actor: admin.user.id,
      role: "admin",
      resource: `user:${target.user.id}`,
      reason: "role patient -> clinician: joined the clinic",
      result: "success",
    });
  });

  it("takes effect on the user's next request, without new tokens", async () => {
    const admin = await createSessionUser({ role: "admin" });
    const target = await createSessionUser();
    await expectProblem(await call(app, "/v1/admin/users", { headers: target.headers }), 403, "FORBIDDEN");
    expect((await setRole(admin, target.user.id, { role: "admin" })).status).toBe(200);
    expect((await call(app, "/v1/admin/users", { headers: target.headers })).status).toBe(200);
  });

  it("records nothing when the role does not change", async () => {
    const admin = await createSessionUser({ role: "admin" });
    const target = await createSessionUser({ role: "researcher" });
    const res = await setRole(admin, target.user.id, { role: "researcher" });
    expect(res.status).toBe(200);
    expect(await roleEvents(target.user.id)).toEqual([]);
  });

  it("answers 404 for an unknown or deleted user and 400 for bad input", async () => {
    const admin = await createSessionUser({ role: "admin" });
    const gone = await createSessionUser();
    await db.update(users).set({ deletedAt: new Date() }).where(eq(users.id, gone.user.id));
    await expectProblem(await setRole(admin, UNKNOWN_USER, { role: "clinician" }), 404, "NOT_FOUND");
    await expectProblem(await setRole(admin, gone.user.id, { role: "clinician" }), 404, "NOT_FOUND");
    expect(await roleOf(gone.user.id)).toBe("patient");

    const target = await createSessionUser();
    await expectProblem(await setRole(admin, "usr_nope", { role: "clinician" }), 400, "VALIDATION_FAILED");
    for (const body of [{ role: "superuser" }, {}, { role: "clinician", extra: true }]) {
      await expectProblem(await setRole(admin, target.user.id, body), 400, "VALIDATION_FAILED");
    }
    expect(await roleOf(target.user.id)).toBe("patient");
  });

  it("never demotes the last admin (409), and lets an admin step down once another exists", async () => {
    const admin = await createSessionUser({ role: "admin" });
    await makeSoleAdmin(admin);
    await expectProblem(await setRole(admin, admin.user.id, { role: "patient" }), 409, "CONFLICT");
    expect(await roleOf(admin.user.id)).toBe("admin");
    expect(await roleEvents(admin.user.id)).toEqual([]);

    const successor = await createSessionUser();
    expect((await setRole(admin, successor.user.id, { role: "admin" })).status).toBe(200);
    expect((await setRole(admin, admin.user.id, { role: "patient" })).status).toBe(200);
    await expectProblem(await call(app, "/v1/admin/users", { headers: admin.headers }), 403, "FORBIDDEN");
  });

  it("lets only one of two admins demoting each other at once succeed", async () => {
    const first = await createSessionUser({ role: "admin" });
    await makeSoleAdmin(first);
    const second = await createSessionUser({ role: "admin" });
    const results = await Promise.all([
      setRole(first, second.user.id, { role: "patient" }),
      setRole(second, first.user.id, { role: "patient" }),
    ]);
    expect(results.map((res) => res.status).sort()).toEqual([200, 409]);
    const admins = await db.select({ id: users.id }).from(users).where(eq(users.role, "admin"));
    expect(admins).toHaveLength(1);
  });
});

describe("GET /v1/admin/users", () => {
  it("lists users newest first, a page at a time, optionally by role", async () => {
    const admin = await createSessionUser({ role: "admin" });
    const older = await createSessionUser({ role: "auditor" });
    const newer = await createSessionUser({ role: "auditor" });
    const first = await call(app, "/v1/admin/users?role=auditor&limit=1", { headers: admin.headers });
    expect(first.status).toBe(200);
    const page1 = await first.json<{ items: UserView[]; nextCursor: string | null }>();
    expect(page1.items.map((user) => user.id)).toEqual([newer.user.id]);
    const second = await call(app, `/v1/admin/users?role=auditor&limit=1&cursor=${page1.nextCursor}`, { headers: admin.headers });
    const page2 = await second.json<{ items: UserView[]; nextCursor: string | null }>();
    expect(page2.items.map((user) => user.id)).toEqual([older.user.id]);
    expect(page2.nextCursor).toBeNull();
  });
});

describe("scripts/grant-admin.mjs", () => {
  /** What `wrangler d1 execute --command` does with the statements: one batch, one transaction. */
  async function run(statements: string[]) {
    const results = await env.DB.batch(statements.map((statement) => env.DB.prepare(statement)));
    return results.map((result) => result.results);
  }

  it("hashes with the same canonical JSON as the Worker", () => {
    const value = { z: [1, "é", null, true], a: { y: undefined, b: -0.5 }, "\u00e9": "\u2028" };
    expect(scriptCanonicalJson(value)).toBe(canonicalJson(value));
  });

  it("grants admin with a security event that extends the chain", async () => {
    // Usernames are RFC 8265 now, but a row from before may hold any text: the script must quote it.
    const username = `O'Brien; DROP TABLE users; -- ${crypto.randomUUID().slice(0, 8)}`;
    const [user] = await db
      .insert(users)
      .values({ id: newId("usr"), username, displayName: "Operator" })
      .returning();
    if (!user) throw new Error("legacy user not inserted");

    const [found, tail] = await run(lookupStatements(username.toUpperCase()));
    expect(found).toEqual([{ id: user.id, role: "patient" }]);
    const { statements, event } = await grantRoleSql({
      user: { id: user.id, role: "patient" },
      tail: (tail?.[0] as { seq: number; hash: string } | undefined) ?? null,
    });
    await run(statements);

    expect(await roleOf(user.id)).toBe("admin");
    const [stored] = await roleEvents(user.id);
    expect(stored).toMatchObject({ seq: event.seq, hash: event.hash, actor: "cli:grant-admin", role: "system" });
    expect(await verifySecurityChain(db)).toMatchObject({ ok: true, head: { seq: event.seq, hash: event.hash } });
  });

  it("writes nothing when the chain moved on since it read the tail", async () => {
    const target = await createSessionUser();
    const [, tail] = await run(lookupStatements(target.user.username));
    const stale = (tail?.[0] as { seq: number; hash: string } | undefined) ?? null;
    await createSessionUser(); // appends user.create: the tail the script read is stale now
    const { statements } = await grantRoleSql({ user: { id: target.user.id, role: "patient" }, tail: stale });
    await expect(run(statements)).rejects.toThrow(/constraint/i);
    expect(await roleOf(target.user.id)).toBe("patient");
    expect((await verifySecurityChain(db)).ok).toBe(true);
  });
});
