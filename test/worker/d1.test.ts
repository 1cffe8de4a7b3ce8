import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { AuditContext } from "../../src/audit/event";
import { verifySecurityChain } from "../../src/audit/verify-security-chain";
import { getDb } from "../../src/db/client";
import { idPattern, newId } from "../../src/db/ids";
import { securityEvents, users } from "../../src/db/schema";
import { DomainError } from "../../src/errors/domain-error";
import { createUser } from "../../src/users/users";

const db = getDb(env.DB);
const admin: AuditContext = { actor: "usr_admin", role: "admin", reason: null, requestId: "req-d1", ip: "203.0.113.9" };

function uniqueName(label: string): string {
  return `${label}-${crypto.randomUUID()}`;
}

describe("D1 migrations", () => {
  it("creates the foundation tables", async () => {
    const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all<{
      name: string;
    }>();
    expect(results.map((row) => row.name)).toEqual(expect.arrayContaining(["security_events", "users"]));
  });
});

describe("createUser", () => {
  it("stores the user with defaults and a user.create event in the chain", async () => {
    const username = uniqueName("ada");
    const user = await createUser({ db }, { username, displayName: "Ada Lovelace" }, admin);

    expect(user.id).toMatch(idPattern("usr"));
    expect(user.role).toBe("patient");
    const [stored] = await db.select().from(users).where(eq(users.id, user.id));
    expect(stored).toMatchObject({ username, displayName: "Ada Lovelace", role: "patient", deletedAt: null });

    const events = await db.select().from(securityEvents).where(eq(securityEvents.subject, user.id));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "user.create",
      actor: "usr_admin",
      role: "admin",
      result: "success",
      requestId: "req-d1",
      ip: "203.0.113.9",
      resource: `user:${user.id}`,
    });
    expect((await verifySecurityChain(db)).ok).toBe(true);
  });

  it("lets self-registration name the new user as its own actor", async () => {
    const id = newId("usr");
    const user = await createUser(
      { db },
      { id, username: uniqueName("self"), displayName: "Self" },
      { actor: id, role: "patient", reason: null, requestId: null, ip: null },
    );
    expect(user.id).toBe(id);
    const [event] = await db.select().from(securityEvents).where(eq(securityEvents.subject, id));
    expect(event?.actor).toBe(id);
  });

  it("writes neither the user nor the event when the username is taken, in any case", async () => {
    const username = uniqueName("grace");
    await createUser({ db }, { username, displayName: "Grace" }, admin);
    const before = await db.$count(securityEvents);

    const attempt = createUser({ db }, { username: username.toUpperCase(), displayName: "Impostor" }, admin);
    await expect(attempt).rejects.toBeInstanceOf(DomainError);
    await expect(attempt).rejects.toMatchObject({ code: "CONFLICT" });

    expect(await db.$count(securityEvents)).toBe(before);
    expect(await db.$count(users, eq(users.displayName, "Impostor"))).toBe(0);
  });

  it("rolls back the user when an extra write of the same batch fails", async () => {
    const taken = await createUser({ db }, { username: uniqueName("taken"), displayName: "Taken" }, admin);
    const before = await db.$count(securityEvents);
    const username = uniqueName("partial");
    const duplicateId = db.insert(users).values({ id: taken.id, username: uniqueName("x"), displayName: "Dup" });

    await expect(createUser({ db }, { username, displayName: "Partial" }, admin, [duplicateId])).rejects.toThrow();

    expect(await db.$count(users, eq(users.username, username))).toBe(0);
    expect(await db.$count(securityEvents)).toBe(before);
  });

  it("rejects invalid input with every field error", async () => {
    const attempt = createUser({ db }, { username: "", displayName: "", id: "usr_nope" }, admin);
    await expect(attempt).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error instanceof DomainError ? error.errors?.map((issue) => issue.path).sort() : []).toEqual([
      "displayName",
      "id",
      "username",
    ]);
  });
});
