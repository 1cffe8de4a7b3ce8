import { env } from "cloudflare:workers";
import { and, eq, inArray, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { sha256Hex } from "../../src/auth/secrets";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import { consents, grantInvitations, grants, securityEvents } from "../../src/db/schema";
import { DomainError } from "../../src/errors/domain-error";
import { canonicalInvitationCode } from "../../src/sharing/code";
import { activeGrantsFor } from "../../src/sharing/grant-access";
import { MAX_PENDING_INVITATIONS } from "../../src/sharing/invitations";
import { INVITATION_QUOTA, REDEEM_USER_QUOTA } from "../../src/sharing/routes";
import { acceptCurrentConsent } from "./helpers/consent";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser, testIp } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

const app = createTestApp();
const db = getDb(env.DB);
const DAY_MS = 24 * 60 * 60 * 1000;
const CODE = /^PLS(-[0-9A-HJKMNP-TV-Z]{4}){7}$/;

interface Created {
  id: string;
  code: string;
  expiresAt: string;
  grantExpiresAt: string;
  role: string;
  categories: string[];
  dataSince: string | null;
  dataUntil: string | null;
  note: string | null;
}

interface GranteeGrant {
  id: string;
  patient: { id: string; displayName: string };
  role: string;
  categories: string[];
  dataSince: string | null;
  dataUntil: string | null;
  expiresAt: string;
  createdAt: string;
  status: string;
  note: string | null;
}

interface PatientGrant extends Omit<GranteeGrant, "patient" | "role"> {
  grantee: { id: string; displayName: string; role: string };
  revokedAt: string | null;
  lastAccessedAt: string | null;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

function request(user: SessionUser, method: string, path: string, body?: unknown, raw?: string): Promise<Response> {
  const headers: Record<string, string> = { ...user.headers };
  if (body !== undefined || raw !== undefined) headers["Content-Type"] = "application/json";
  const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
  return call(app, path, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
}

const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

function invitationBody(overrides: Record<string, unknown> = {}) {
  return { role: "clinician", categories: ["vitals", "sleep"], expiresAt: inDays(90), ...overrides };
}

/** The ids of the grants a grantee's read would go through now, by the lookup the grantee routes use. */
async function activeGrantIds(grantee: SessionUser, patientId: string): Promise<string[]> {
  const query = { granteeId: grantee.user.id, granteeRole: grantee.user.role, patientId, now: Date.now() };
  try {
    return (await activeGrantsFor(db, query)).map((grant) => grant.id);
  } catch (error) {
    if (error instanceof DomainError && error.code === "NOT_FOUND") return [];
    throw error;
  }
}

async function patient(): Promise<SessionUser> {
  const user = await createSessionUser();
  await acceptCurrentConsent(user.user.id);
  return user;
}

async function invite(owner: SessionUser, overrides: Record<string, unknown> = {}): Promise<Created> {
  const res = await request(owner, "POST", "/v1/me/grants/invitations", invitationBody(overrides));
  expect(res.status).toBe(201);
  return res.json<Created>();
}

function redeem(user: SessionUser, code: string): Promise<Response> {
  return request(user, "POST", "/v1/grants/redeem", { code });
}

async function redeemed(user: SessionUser, code: string): Promise<GranteeGrant> {
  const res = await redeem(user, code);
  expect(res.status).toBe(201);
  return (await res.json<{ grant: GranteeGrant }>()).grant;
}

async function storeEvents(userId: string, action: string) {
  const page = await healthStoreFor(env.HEALTH_STORE, userId).accessLog({ limit: 200 });
  return page.items.filter((event) => event.action === action);
}

async function d1Events(subject: string, action: string) {
  return db
    .select()
    .from(securityEvents)
    .where(and(eq(securityEvents.subject, subject), eq(securityEvents.action, action)));
}

/**
 * Rows created one after another can share a millisecond, and lists break such ties by random id:
 * give them creation instants a second apart, in the given order, so "newest first" is determined.
 */
async function spaceOut(table: typeof grants | typeof grantInvitations, ids: string[]): Promise<void> {
  const base = Date.now() - ids.length * 1000;
  for (const [index, id] of ids.entries()) {
    await db
      .update(table)
      .set({ createdAt: new Date(base + index * 1000) })
      .where(eq(table.id, id));
  }
}

/** The one answer every unusable code gets; its body must not vary with the reason. */
async function expectUnusable(res: Response): Promise<void> {
  expect(res.status).toBe(404);
  const body = await res.json<{ code: string; detail: string }>();
  expect(body.code).toBe("NOT_FOUND");
  expect(body.detail).toBe("No invitation can be redeemed with this code.");
}

describe("POST /v1/me/grants/invitations", () => {
  it("creates an invitation whose code is shown once, stored only as its SHA-256 and audited without it", async () => {
    const owner = await patient();
    const before = Date.now();
    const body = invitationBody({
      categories: ["glucose"],
      note: "For Dr. Okafor,\nbefore the March visit",
      dataSince: "2026-01-01T00:00:00Z",
      dataUntil: "2026-07-01T00:00:00+02:00",
    });
    const res = await request(owner, "POST", "/v1/me/grants/invitations", body);
    expect(res.status).toBe(201);
    const created = await res.json<Created>();
    expect(created).toMatchObject({
      role: "clinician",
      categories: ["glucose"],
      grantExpiresAt: new Date(body.expiresAt).toISOString(),
      dataSince: "2026-01-01T00:00:00.000Z",
      dataUntil: "2026-06-30T22:00:00.000Z",
      note: "For Dr. Okafor,\nbefore the March visit",
    });
    expect(created.id).toMatch(/^inv_[a-z2-7]{26}$/);
    expect(created.code).toMatch(CODE);
    const codeExpiry = Date.parse(created.expiresAt) - before;
    expect(codeExpiry).toBeGreaterThanOrEqual(7 * DAY_MS - 1000);
    expect(codeExpiry).toBeLessThanOrEqual(7 * DAY_MS + 5000);

    const [row] = await db.select().from(grantInvitations).where(eq(grantInvitations.id, created.id));
    expect(row?.codeHash).toBe(await sha256Hex(created.code.replaceAll("-", "").slice(3)));
    expect(JSON.stringify(row)).not.toContain(created.code.slice(4, 13));

    const [event, ...more] = await d1Events(owner.user.id, "grant.invite");
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({ actor: owner.user.id, resource: `invitation:${created.id}`, result: "success" });
    expect(JSON.stringify(event)).not.toContain(created.code.slice(4, 13));

    const list = await (await request(owner, "GET", "/v1/me/grants/invitations")).json<Page<Record<string, unknown>>>();
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ id: created.id, status: "pending", redeemedAt: null, cancelledAt: null });
    expect(JSON.stringify(list)).not.toContain(created.code.slice(4, 13));
    expect(list.items[0]).not.toHaveProperty("code");
    expect(list.items[0]).not.toHaveProperty("codeHash");
  });

  it("gives every invitation a fresh code, and never lets the code outlive the grant it creates", async () => {
    const owner = await patient();
    const codes = new Set<string>();
    for (let i = 0; i < 5; i++) codes.add((await invite(owner)).code);
    expect(codes.size).toBe(5);
    const short = await invite(owner, { expiresAt: new Date(Date.now() + 60 * 60 * 1000).toISOString() });
    expect(short.expiresAt).toBe(short.grantExpiresAt);
  });

  it("refuses every invalid field at once, with its path", async () => {
    const owner = await patient();
    const res = await request(owner, "POST", "/v1/me/grants/invitations", {
      role: "admin",
      categories: ["vitals", "vitals", "steps"],
      expiresAt: "next week",
      note: "x".repeat(501),
    });
    await expectProblem(res.clone(), 400, "VALIDATION_FAILED");
    const body = await res.json<{ errors: { path: string }[] }>();
    const paths = body.errors.map((error) => error.path);
    for (const path of ["role", "categories.2", "expiresAt", "note"]) expect(paths).toContain(path);
  });

  it.each([
    ["an empty category list", { categories: [] }, "categories"],
    ["duplicate categories", { categories: ["sleep", "sleep"] }, "categories"],
    ["an unknown field (nobody picks the grantee)", { granteeId: "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa" }, "granteeId"],
    ["an expiry without offset", { expiresAt: "2027-01-01T00:00:00" }, "expiresAt"],
    ["an expiry in the past", { expiresAt: new Date(Date.now() - 1000).toISOString() }, "expiresAt"],
    ["an expiry over a year away", { expiresAt: inDays(367) }, "expiresAt"],
    ["a control character in the note", { note: "hello\u0000there" }, "note"],
    ["a period ending before it starts", { dataSince: "2026-02-01T00:00:00Z", dataUntil: "2026-01-01T00:00:00Z" }, "dataUntil"],
    ["an empty period", { dataSince: "2026-02-01T00:00:00Z", dataUntil: "2026-02-01T00:00:00Z" }, "dataUntil"],
    ["a category as a string", { categories: "vitals" }, "categories"],
  ])("refuses %s (400)", async (_name, overrides, path) => {
    const owner = await patient();
    const res = await request(owner, "POST", "/v1/me/grants/invitations", invitationBody(overrides));
    await expectProblem(res.clone(), 400, "VALIDATION_FAILED");
    const body = await res.json<{ errors: { path: string }[] }>();
    expect(body.errors.map((error) => error.path)).toContain(path);
    expect(await db.$count(grantInvitations, eq(grantInvitations.patientId, owner.user.id))).toBe(0);
  });

  it("refuses malformed JSON and a wrong content type", async () => {
    const owner = await patient();
    await expectProblem(await request(owner, "POST", "/v1/me/grants/invitations", undefined, "{"), 400, "MALFORMED_JSON");
    const res = await call(app, "/v1/me/grants/invitations", {
      method: "POST",
      headers: { ...owner.headers, "Content-Type": "text/plain" },
      body: JSON.stringify(invitationBody()),
    });
    expect(res.status).toBe(415);
  });

  it("needs the patient's current consent (403 CONSENT_REQUIRED), withdrawn consent included", async () => {
    const never = await createSessionUser();
    await expectProblem(await request(never, "POST", "/v1/me/grants/invitations", invitationBody()), 403, "CONSENT_REQUIRED");
    const withdrew = await patient();
    await db.update(consents).set({ withdrawnAt: new Date() }).where(eq(consents.userId, withdrew.user.id));
    await expectProblem(await request(withdrew, "POST", "/v1/me/grants/invitations", invitationBody()), 403, "CONSENT_REQUIRED");
    expect(await db.$count(grantInvitations, inArray(grantInvitations.patientId, [never.user.id, withdrew.user.id]))).toBe(0);
  });

  it(`caps pending invitations at ${MAX_PENDING_INVITATIONS} (409); expired, cancelled and redeemed ones do not count`, async () => {
    const owner = await patient();
    const now = Date.now();
    const row = (i: number, extra: Partial<typeof grantInvitations.$inferInsert> = {}) => ({
      id: newId("inv"),
      patientId: owner.user.id,
      role: "clinician" as const,
      categories: ["vitals"],
      grantExpiresAt: new Date(now + 30 * DAY_MS),
      codeHash: `seeded-${owner.user.id}-${i}`,
      codeExpiresAt: new Date(now + DAY_MS),
      createdAt: new Date(now - i),
      ...extra,
    });
    await db
      .insert(grantInvitations)
      .values([
        row(1000, { codeExpiresAt: new Date(now - 1000) }),
        row(1001, { revokedAt: new Date(now) }),
        row(1002, { redeemedAt: new Date(now) }),
      ]);
    // D1 binds at most 100 parameters a statement: a few rows at a time.
    const seeded = Array.from({ length: MAX_PENDING_INVITATIONS - 1 }, (_, i) => row(i));
    for (let i = 0; i < seeded.length; i += 5) await db.insert(grantInvitations).values(seeded.slice(i, i + 5));
    await invite(owner);
    await expectProblem(await request(owner, "POST", "/v1/me/grants/invitations", invitationBody()), 409, "CONFLICT");
  });

  it(`allows ${INVITATION_QUOTA.limit} invitations an hour per user, then 429 with Retry-After`, async () => {
    const owner = await patient();
    for (let i = 0; i < INVITATION_QUOTA.limit; i++) await invite(owner);
    const res = await request(owner, "POST", "/v1/me/grants/invitations", invitationBody());
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
    await expectProblem(res, 429, "RATE_LIMITED");
  });
});

describe("GET and DELETE /v1/me/grants/invitations", () => {
  it("lists the patient's own invitations newest first with their status, a page at a time", async () => {
    const owner = await patient();
    const other = await patient();
    await invite(other);
    const pending = await invite(owner);
    const toRedeem = await invite(owner);
    const toCancel = await invite(owner);
    const toExpire = await invite(owner);
    await spaceOut(grantInvitations, [pending.id, toRedeem.id, toCancel.id, toExpire.id]);
    await redeemed(await createSessionUser({ role: "clinician" }), toRedeem.code);
    expect((await request(owner, "DELETE", `/v1/me/grants/invitations/${toCancel.id}`)).status).toBe(204);
    await db
      .update(grantInvitations)
      .set({ codeExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(grantInvitations.id, toExpire.id));

    const seen: Record<string, string>[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "" : `&cursor=${cursor}`;
      const res = await request(owner, "GET", `/v1/me/grants/invitations?limit=3${query}`);
      expect(res.status).toBe(200);
      const page = await res.json<Page<Record<string, string>>>();
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.map((item) => [item.id, item.status])).toEqual([
      [toExpire.id, "expired"],
      [toCancel.id, "cancelled"],
      [toRedeem.id, "redeemed"],
      [pending.id, "pending"],
    ]);
    expect(seen[1]?.cancelledAt).toEqual(expect.any(String));
    expect(seen[2]?.redeemedAt).toEqual(expect.any(String));
  });

  it("refuses a cursor from another list (400)", async () => {
    const owner = await patient();
    const res = await request(owner, "GET", "/v1/me/grants/invitations?cursor=bm90LWEtY3Vyc29y");
    await expectProblem(res, 400, "VALIDATION_FAILED");
  });

  it("cancels a pending invitation: its code stops working, the cancellation is audited, a second cancel is 404", async () => {
    const owner = await patient();
    const created = await invite(owner);
    expect((await request(owner, "DELETE", `/v1/me/grants/invitations/${created.id}`)).status).toBe(204);
    await expectUnusable(await redeem(await createSessionUser({ role: "clinician" }), created.code));
    const events = await d1Events(owner.user.id, "grant.invitation_cancel");
    expect(events.map((event) => event.resource)).toEqual([`invitation:${created.id}`]);
    await expectProblem(await request(owner, "DELETE", `/v1/me/grants/invitations/${created.id}`), 404, "NOT_FOUND");
    expect(await d1Events(owner.user.id, "grant.invitation_cancel")).toHaveLength(1);
  });

  it("answers 404 for a redeemed, an expired or an unknown invitation, and 400 for a malformed id", async () => {
    const owner = await patient();
    const used = await invite(owner);
    await redeemed(await createSessionUser({ role: "clinician" }), used.code);
    await expectProblem(await request(owner, "DELETE", `/v1/me/grants/invitations/${used.id}`), 404, "NOT_FOUND");
    const old = await invite(owner);
    await db
      .update(grantInvitations)
      .set({ codeExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(grantInvitations.id, old.id));
    await expectProblem(await request(owner, "DELETE", `/v1/me/grants/invitations/${old.id}`), 404, "NOT_FOUND");
    await expectProblem(await request(owner, "DELETE", `/v1/me/grants/invitations/${newId("inv")}`), 404, "NOT_FOUND");
    await expectProblem(await request(owner, "DELETE", "/v1/me/grants/invitations/inv_x"), 400, "VALIDATION_FAILED");
    await expectProblem(await request(owner, "DELETE", `/v1/me/grants/invitations/${newId("grt")}`), 400, "VALIDATION_FAILED");
  });

  it("lets exactly one of a racing cancellation and redemption win", async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await patient();
      const created = await invite(owner);
      const clinician = await createSessionUser({ role: "clinician" });
      const [cancel, redeem_] = await Promise.all([
        request(owner, "DELETE", `/v1/me/grants/invitations/${created.id}`),
        redeem(clinician, created.code),
      ]);
      expect([cancel.status, redeem_.status].sort()).toEqual(cancel.status === 204 ? [204, 404] : [201, 404]);
      const [row] = await db.select().from(grantInvitations).where(eq(grantInvitations.id, created.id));
      const grantCount = await db.$count(grants, eq(grants.invitationId, created.id));
      expect(row?.redeemedAt !== null).toBe(redeem_.status === 201);
      expect(row?.revokedAt !== null).toBe(cancel.status === 204);
      expect(grantCount).toBe(redeem_.status === 201 ? 1 : 0);
      const cancelEvents = await d1Events(owner.user.id, "grant.invitation_cancel");
      const redeemEvents = await d1Events(owner.user.id, "grant.redeem");
      expect(cancelEvents.length + redeemEvents.length).toBe(1);
    }
  });
});

describe("POST /v1/grants/redeem", () => {
  it("turns the code into a grant for the clinician, recorded in D1 and in the patient's own access log", async () => {
    const owner = await patient();
    const created = await invite(owner, {
      categories: ["vitals", "activity"],
      note: "Cardiology follow-up",
      dataSince: "2026-01-01T00:00:00Z",
    });
    const clinician = await createSessionUser({ role: "clinician" });
    const grant = await redeemed(clinician, created.code);
    expect(grant).toMatchObject({
      patient: { id: owner.user.id, displayName: owner.user.displayName },
      role: "clinician",
      categories: ["vitals", "activity"],
      dataSince: "2026-01-01T00:00:00.000Z",
      dataUntil: null,
      expiresAt: created.grantExpiresAt,
      status: "active",
      note: "Cardiology follow-up",
    });
    expect(grant.id).toMatch(/^grt_[a-z2-7]{26}$/);
    expect(JSON.stringify(grant)).not.toContain(owner.user.username);

    expect(await activeGrantIds(clinician, owner.user.id)).toEqual([grant.id]);

    const [event] = await d1Events(owner.user.id, "grant.redeem");
    expect(event).toMatchObject({
      actor: clinician.user.id,
      role: "clinician",
      resource: `grant:${grant.id}`,
      result: "success",
    });
    const [logged, ...more] = await storeEvents(owner.user.id, "grant.redeem");
    expect(more).toHaveLength(0);
    expect(logged).toMatchObject({
      actor: clinician.user.id,
      role: "clinician",
      subject: owner.user.id,
      resource: `grant:${grant.id}`,
      result: "success",
    });
    const codeBody = created.code.replaceAll("-", "").slice(3);
    const everything = JSON.stringify([
      await storeEvents(owner.user.id, "grant.redeem"),
      await d1Events(owner.user.id, "grant.redeem"),
    ]);
    expect(everything).not.toContain(codeBody);
  });

  it("accepts the code typed back in any case, without dashes or prefix, with spaces, and with I/L/O for 1/1/0", async () => {
    const owner = await patient();
    const variants: ((code: string) => string)[] = [
      (code) => code.toLowerCase(),
      (code) => code.replaceAll("-", ""),
      (code) => code.slice(4),
      (code) => ` ${code.replaceAll("-", " ")} `,
      (code) => code.replaceAll("1", "l").replaceAll("0", "O"),
    ];
    for (const variant of variants) {
      const created = await invite(owner);
      await redeemed(await createSessionUser({ role: "clinician" }), variant(created.code));
    }
  });

  it("answers a researcher's invitation to a researcher only, and the 403 names the role needed", async () => {
    const owner = await patient();
    const created = await invite(owner, { role: "researcher" });
    const clinician = await createSessionUser({ role: "clinician" });
    const res = await redeem(clinician, created.code);
    await expectProblem(res.clone(), 403, "FORBIDDEN");
    const body = await res.json<{ detail: string; requiredRole: string }>();
    expect(body.requiredRole).toBe("researcher");
    expect(body.detail).toContain("researcher");
    // The refusal did not use the code up.
    const grant = await redeemed(await createSessionUser({ role: "researcher" }), created.code);
    expect(grant.role).toBe("researcher");
  });

  it("refuses the patient redeeming their own invitation (409), even as a clinician", async () => {
    const owner = await createSessionUser({ role: "clinician" });
    await acceptCurrentConsent(owner.user.id);
    const created = await invite(owner);
    await expectProblem(await redeem(owner, created.code), 409, "CONFLICT");
    expect(await db.$count(grants, eq(grants.invitationId, created.id))).toBe(0);
  });

  it("answers one and the same 404 for unknown, expired (by a second), cancelled, used and unconsented codes", async () => {
    const owner = await patient();
    const clinician = await createSessionUser({ role: "clinician" });

    await expectUnusable(await redeem(clinician, "PLS-0000-0000-0000-0000-0000-0000-0000"));

    const expired = await invite(owner);
    await db
      .update(grantInvitations)
      .set({ codeExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(grantInvitations.id, expired.id));
    await expectUnusable(await redeem(clinician, expired.code));

    const grantEnded = await invite(owner);
    await db
      .update(grantInvitations)
      .set({ grantExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(grantInvitations.id, grantEnded.id));
    await expectUnusable(await redeem(clinician, grantEnded.code));

    const cancelled = await invite(owner);
    expect((await request(owner, "DELETE", `/v1/me/grants/invitations/${cancelled.id}`)).status).toBe(204);
    await expectUnusable(await redeem(clinician, cancelled.code));

    const used = await invite(owner);
    await redeemed(clinician, used.code);
    await expectUnusable(await redeem(clinician, used.code));
    await expectUnusable(await redeem(await createSessionUser({ role: "clinician" }), used.code));

    const unconsented = await invite(owner);
    await db.update(consents).set({ withdrawnAt: new Date() }).where(eq(consents.userId, owner.user.id));
    await expectUnusable(await redeem(clinician, unconsented.code));

    // Only the one successful redemption left a grant.
    expect(await db.$count(grants, eq(grants.patientId, owner.user.id))).toBe(1);
  });

  it("still answers 404 (not 403) to a wrong-role caller for a code that cannot be used", async () => {
    const owner = await patient();
    const created = await invite(owner);
    await db
      .update(grantInvitations)
      .set({ codeExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(grantInvitations.id, created.id));
    await expectUnusable(await redeem(await createSessionUser({ role: "researcher" }), created.code));
  });

  it.each([
    ["too short", "PLS-0000"],
    ["a character outside the alphabet", "PLS-0000-0000-0000-0000-0000-0000-000U"],
    ["empty", ""],
  ])("refuses a code that is %s (400)", async (_name, code) => {
    const clinician = await createSessionUser({ role: "clinician" });
    await expectProblem(await redeem(clinician, code), 400, "VALIDATION_FAILED");
  });

  it("refuses an unknown field, a non-string code and an oversized one (400)", async () => {
    const clinician = await createSessionUser({ role: "clinician" });
    await expectProblem(
      await request(clinician, "POST", "/v1/grants/redeem", { code: "x", patientId: "usr_x" }),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(await request(clinician, "POST", "/v1/grants/redeem", { code: 42 }), 400, "VALIDATION_FAILED");
    await expectProblem(await redeem(clinician, "A".repeat(101)), 400, "VALIDATION_FAILED");
  });

  it("creates exactly one grant when many redeem the same code at once", async () => {
    const owner = await patient();
    const created = await invite(owner);
    const clinicians = await Promise.all(Array.from({ length: 5 }, () => createSessionUser({ role: "clinician" })));
    const results = await Promise.all(clinicians.map((clinician) => redeem(clinician, created.code)));
    const statuses = results.map((res) => res.status).sort();
    expect(statuses).toEqual([201, 404, 404, 404, 404]);
    const stored = await db.select().from(grants).where(eq(grants.invitationId, created.id));
    expect(stored).toHaveLength(1);
    const winner = clinicians[results.findIndex((res) => res.status === 201)];
    expect(stored[0]?.granteeId).toBe(winner?.user.id);
    expect(await d1Events(owner.user.id, "grant.redeem")).toHaveLength(1);
    expect(await storeEvents(owner.user.id, "grant.redeem")).toHaveLength(1);
  });

  it(`limits redemption attempts to ${REDEEM_USER_QUOTA.limit} per 15 minutes per account (429), valid codes included`, async () => {
    const clinician = await createSessionUser({ role: "clinician" });
    for (let i = 0; i < REDEEM_USER_QUOTA.limit; i++) {
      await expectUnusable(await redeem(clinician, `PLS-0000-0000-0000-0000-0000-0000-${String(i).padStart(4, "0")}`));
    }
    const owner = await patient();
    const created = await invite(owner);
    const res = await redeem(clinician, created.code);
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
    await expectProblem(res, 429, "RATE_LIMITED");
    // From another address, too: the quota is the account's.
    const elsewhere = await call(app, "/v1/grants/redeem", {
      method: "POST",
      headers: { ...clinician.headers, "CF-Connecting-IP": testIp(), "Content-Type": "application/json" },
      body: JSON.stringify({ code: created.code }),
    });
    await expectProblem(elsewhere, 429, "RATE_LIMITED");
  });

  it("limits redemption attempts per address across accounts (429)", async () => {
    const ip = `10.251.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    let limited: Response | undefined;
    for (let i = 0; i < 8 && limited === undefined; i++) {
      const clinician = await createSessionUser({ role: "clinician" });
      for (let j = 0; j < REDEEM_USER_QUOTA.limit; j++) {
        const res = await call(app, "/v1/grants/redeem", {
          method: "POST",
          headers: { ...clinician.headers, "CF-Connecting-IP": ip, "Content-Type": "application/json" },
          body: JSON.stringify({ code: "PLS-0000-0000-0000-0000-0000-0000-0000" }),
        });
        if (res.status === 429) {
          limited = res;
          break;
        }
        await expectUnusable(res);
      }
    }
    expect(limited).toBeDefined();
    if (limited) await expectProblem(limited, 429, "RATE_LIMITED");
  });
});

describe("GET /v1/me/grants and DELETE /v1/me/grants/:id", () => {
  async function sharedWith(owner: SessionUser, role: "clinician" | "researcher" = "clinician") {
    const grantee = await createSessionUser({ role });
    const grant = await redeemed(grantee, (await invite(owner, { role })).code);
    return { grantee, grant };
  }

  it("lists who may read the patient's data, newest first, by display name and never username", async () => {
    const owner = await patient();
    const first = await sharedWith(owner);
    const second = await sharedWith(owner, "researcher");
    await spaceOut(grants, [first.grant.id, second.grant.id]);
    await db
      .update(grants)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(grants.id, first.grant.id));
    const stranger = await sharedWith(await patient());

    const res = await request(owner, "GET", "/v1/me/grants");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toContain("no-store");
    const page = await res.json<Page<PatientGrant>>();
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((item) => [item.id, item.status])).toEqual([
      [second.grant.id, "active"],
      [first.grant.id, "expired"],
    ]);
    expect(page.items[0]).toMatchObject({
      grantee: { id: second.grantee.user.id, displayName: second.grantee.user.displayName, role: "researcher" },
      categories: ["vitals", "sleep"],
      revokedAt: null,
      lastAccessedAt: null,
    });
    const text = JSON.stringify(page);
    expect(text).not.toContain(first.grantee.user.username);
    expect(text).not.toContain(second.grantee.user.username);
    expect(text).not.toContain(stranger.grant.id);

    const paged = await (await request(owner, "GET", "/v1/me/grants?limit=1")).json<Page<PatientGrant>>();
    expect(paged.items.map((item) => item.id)).toEqual([second.grant.id]);
    const rest = await (await request(owner, "GET", `/v1/me/grants?limit=1&cursor=${paged.nextCursor}`)).json<
      Page<PatientGrant>
    >();
    expect(rest.items.map((item) => item.id)).toEqual([first.grant.id]);
    expect(rest.nextCursor).toBeNull();
  });

  it("revokes at once: the very next grant lookup finds nothing, both chains record it, and a second revoke is 404", async () => {
    const owner = await patient();
    const { grantee, grant } = await sharedWith(owner);
    const lookup = () => activeGrantIds(grantee, owner.user.id);
    expect(await lookup()).toHaveLength(1);

    expect((await request(owner, "DELETE", `/v1/me/grants/${grant.id}`)).status).toBe(204);
    expect(await lookup()).toHaveLength(0);

    const listed = await (await request(owner, "GET", "/v1/me/grants")).json<Page<PatientGrant>>();
    expect(listed.items[0]).toMatchObject({ id: grant.id, status: "revoked", revokedAt: expect.any(String) });

    expect((await d1Events(owner.user.id, "grant.revoke")).map((event) => event.resource)).toEqual([`grant:${grant.id}`]);
    const [logged] = await storeEvents(owner.user.id, "grant.revoke");
    expect(logged).toMatchObject({
      actor: owner.user.id,
      subject: owner.user.id,
      resource: `grant:${grant.id}`,
      result: "success",
    });

    await expectProblem(await request(owner, "DELETE", `/v1/me/grants/${grant.id}`), 404, "NOT_FOUND");
    expect(await d1Events(owner.user.id, "grant.revoke")).toHaveLength(1);
  });

  it("records one revocation when two race", async () => {
    const owner = await patient();
    const { grant } = await sharedWith(owner);
    const results = await Promise.all([0, 1, 2].map(() => request(owner, "DELETE", `/v1/me/grants/${grant.id}`)));
    expect(results.map((res) => res.status).sort()).toEqual([204, 404, 404]);
    expect(await d1Events(owner.user.id, "grant.revoke")).toHaveLength(1);
    expect(await storeEvents(owner.user.id, "grant.revoke")).toHaveLength(1);
  });

  it("answers 404 to the grantee revoking and to an unknown id, 400 to a malformed one", async () => {
    const owner = await patient();
    const { grantee, grant } = await sharedWith(owner);
    await expectProblem(await request(grantee, "DELETE", `/v1/me/grants/${grant.id}`), 404, "NOT_FOUND");
    await expectProblem(await request(owner, "DELETE", `/v1/me/grants/${newId("grt")}`), 404, "NOT_FOUND");
    await expectProblem(await request(owner, "DELETE", "/v1/me/grants/grt_1"), 400, "VALIDATION_FAILED");
    expect(await activeGrantIds(grantee, owner.user.id)).toHaveLength(1);
  });
});

describe("GET /v1/grants", () => {
  it("shows the grantee the patients who shared with them: active by default, history with ?status=all", async () => {
    const clinician = await createSessionUser({ role: "clinician" });
    const [ana, ben, cam] = await Promise.all([patient(), patient(), patient()]);
    if (!ana || !ben || !cam) throw new Error("patients not created");
    const fromAna = await redeemed(clinician, (await invite(ana)).code);
    const fromBen = await redeemed(clinician, (await invite(ben)).code);
    const fromCam = await redeemed(clinician, (await invite(cam, { note: "Sleep clinic" })).code);
    await spaceOut(grants, [fromAna.id, fromBen.id, fromCam.id]);
    await request(ana, "DELETE", `/v1/me/grants/${fromAna.id}`);
    await db
      .update(grants)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(grants.id, fromBen.id));
    // Someone else's grant never shows.
    await redeemed(await createSessionUser({ role: "clinician" }), (await invite(cam)).code);

    const res = await request(clinician, "GET", "/v1/grants");
    expect(res.status).toBe(200);
    const active = await res.json<Page<GranteeGrant>>();
    expect(active.items).toHaveLength(1);
    expect(active.items[0]).toMatchObject({
      id: fromCam.id,
      patient: { id: cam.user.id, displayName: cam.user.displayName },
      role: "clinician",
      status: "active",
      note: "Sleep clinic",
    });
    expect(JSON.stringify(active)).not.toContain(cam.user.username);

    const all = await (await request(clinician, "GET", "/v1/grants?status=all")).json<Page<GranteeGrant>>();
    expect(all.items.map((item) => [item.id, item.status])).toEqual([
      [fromCam.id, "active"],
      [fromBen.id, "expired"],
      [fromAna.id, "revoked"],
    ]);

    const first = await (await request(clinician, "GET", "/v1/grants?status=all&limit=2")).json<Page<GranteeGrant>>();
    expect(first.items).toHaveLength(2);
    // A cursor is bound to its filter: replaying it without ?status=all is refused, not misread.
    await expectProblem(
      await request(clinician, "GET", `/v1/grants?limit=2&cursor=${first.nextCursor}`),
      400,
      "VALIDATION_FAILED",
    );
    const second = await (await request(clinician, "GET", `/v1/grants?status=all&limit=2&cursor=${first.nextCursor}`)).json<
      Page<GranteeGrant>
    >();
    expect(second.items.map((item) => item.id)).toEqual([fromAna.id]);
  });

  it("shows nothing to someone nobody shared with, and refuses an unknown status or parameter (400)", async () => {
    const user = await createSessionUser();
    expect(await (await request(user, "GET", "/v1/grants")).json()).toEqual({ items: [], nextCursor: null });
    await expectProblem(await request(user, "GET", "/v1/grants?status=revoked"), 400, "VALIDATION_FAILED");
    await expectProblem(await request(user, "GET", "/v1/grants?patientId=usr_x"), 400, "VALIDATION_FAILED");
  });

  it("never stores or logs the code: no security event anywhere mentions it", async () => {
    const owner = await patient();
    const created = await invite(owner);
    await redeemed(await createSessionUser({ role: "clinician" }), created.code);
    const canonical = canonicalInvitationCode(created.code) ?? "";
    expect(canonical).toHaveLength(28);
    expect(await db.$count(securityEvents, like(securityEvents.resource, `%${canonical.slice(0, 12)}%`))).toBe(0);
  });
});
