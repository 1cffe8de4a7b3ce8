import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { CURRENT_CONSENT_VERSIONS, hasCurrentConsent, requireCurrentConsent } from "../../src/consent/consents";
import { getDb } from "../../src/db/client";
import { consents, securityEvents } from "../../src/db/schema";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * `/v1/me/consents` and the `/legal` documents: accepting the current versions (idempotently, also
 * under concurrency), refusing stale ones, withdrawing, and what the consent check used by sharing
 * then answers. Authentication and authorization cases are in route-security.test.ts.
 */
const app = createTestApp();
const db = () => getDb(env.DB);

interface ConsentRecord {
  id: string;
  document: string;
  version: string;
  acceptedAt: string;
  withdrawnAt: string | null;
}
interface ConsentStatus {
  current: Record<"terms" | "privacy", { version: string; url: string }>;
  accepted: boolean;
  records: ConsentRecord[];
  moreRecords: boolean;
}

function post(user: SessionUser, path: string, body: unknown, contentType = "application/json"): Promise<Response> {
  return call(app, path, {
    method: "POST",
    headers: { ...user.headers, "Content-Type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
const accept = (user: SessionUser, document: string, version: string = CURRENT_CONSENT_VERSIONS.terms) =>
  post(user, "/v1/me/consents", { document, version });
const withdraw = (user: SessionUser, document: string) => post(user, "/v1/me/consents/withdraw", { document });

async function status(user: SessionUser): Promise<ConsentStatus> {
  const res = await call(app, "/v1/me/consents", { headers: user.headers });
  expect(res.status).toBe(200);
  return res.json<ConsentStatus>();
}

async function eventsOf(userId: string, action: string) {
  return db()
    .select()
    .from(securityEvents)
    .where(and(eq(securityEvents.subject, userId), eq(securityEvents.action, action)));
}

describe("consent records", () => {
  it("shows the current documents, with real URLs, and nothing accepted for a new user", async () => {
    const user = await createSessionUser();
    const body = await status(user);
    expect(body).toStrictEqual({
      current: {
        terms: { version: CURRENT_CONSENT_VERSIONS.terms, url: "/legal/terms" },
        privacy: { version: CURRENT_CONSENT_VERSIONS.privacy, url: "/legal/privacy" },
      },
      accepted: false,
      records: [],
      moreRecords: false,
    });
    for (const document of ["terms", "privacy"] as const) {
      const page = await call(app, body.current[document].url);
      expect(page.status).toBe(200);
      expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain(`<strong id="version">${CURRENT_CONSENT_VERSIONS[document]}</strong>`);
      expect(html).not.toMatch(/lorem|TODO|REPLACE_ME|placeholder/i);
    }
  });

  it("accepts each current document once (201), answers a repeat with the same record (200), and then allows sharing", async () => {
    const user = await createSessionUser();
    const first = await accept(user, "terms");
    expect(first.status).toBe(201);
    const record = await first.json<ConsentRecord>();
    expect(record).toMatchObject({ document: "terms", version: CURRENT_CONSENT_VERSIONS.terms, withdrawnAt: null });
    expect(record.id).toMatch(/^cns_[a-z2-7]{26}$/);

    const again = await accept(user, "terms");
    expect(again.status).toBe(200);
    expect(await again.json()).toStrictEqual(record);
    expect(await hasCurrentConsent(db(), user.user.id)).toBe(false); // privacy not yet accepted
    await expect(requireCurrentConsent(db(), user.user.id, "Sharing")).rejects.toMatchObject({ code: "CONSENT_REQUIRED" });

    expect((await accept(user, "privacy", CURRENT_CONSENT_VERSIONS.privacy)).status).toBe(201);
    const body = await status(user);
    expect(body.accepted).toBe(true);
    expect(body.records.map((r) => r.document).sort()).toEqual(["privacy", "terms"]);
    expect(await hasCurrentConsent(db(), user.user.id)).toBe(true);
    expect(await db().select().from(consents).where(eq(consents.userId, user.user.id))).toHaveLength(2);

    const events = await eventsOf(user.user.id, "consent.accept");
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      actor: user.user.id,
      role: "patient",
      result: "success",
      resource: `consent:${record.id}`,
    });
  });

  it("refuses a version that is not the current one with 409 naming the current version", async () => {
    const user = await createSessionUser();
    const res = await accept(user, "terms", "2020-01-01");
    expect(res.status).toBe(409);
    const problem = await res.clone().json<{ code: string; detail: string; currentVersion: string; document: string }>();
    expect(problem).toMatchObject({ code: "CONFLICT", currentVersion: CURRENT_CONSENT_VERSIONS.terms, document: "terms" });
    expect(problem.detail).toContain(CURRENT_CONSENT_VERSIONS.terms);
    expect((await status(user)).records).toEqual([]);
    expect(await eventsOf(user.user.id, "consent.accept")).toEqual([]);
  });

  it("answers malformed requests with 4xx problems and records nothing", async () => {
    const user = await createSessionUser();
    await expectProblem(await post(user, "/v1/me/consents", { document: "cookies", version: "x" }), 400, "VALIDATION_FAILED");
    await expectProblem(await post(user, "/v1/me/consents", { document: "terms" }), 400, "VALIDATION_FAILED");
    await expectProblem(
      await post(user, "/v1/me/consents", { document: "terms", version: CURRENT_CONSENT_VERSIONS.terms, userId: "usr_x" }),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(
      await post(user, "/v1/me/consents", { document: "terms", version: "v".repeat(10_000) }),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(await post(user, "/v1/me/consents", { document: "terms", version: 20261201 }), 400, "VALIDATION_FAILED");
    await expectProblem(await post(user, "/v1/me/consents", "{not json"), 400, "MALFORMED_JSON");
    await expectProblem(await post(user, "/v1/me/consents", [1, 2]), 400, "VALIDATION_FAILED");
    const form = await post(user, "/v1/me/consents", "document=terms", "application/x-www-form-urlencoded");
    expect(form.status).toBe(415);
    await expectProblem(await post(user, "/v1/me/consents/withdraw", { document: "all" }), 400, "VALIDATION_FAILED");
    expect(await db().select().from(consents).where(eq(consents.userId, user.user.id))).toEqual([]);
  });

  it("records one acceptance when the same one is sent many times at once", async () => {
    const user = await createSessionUser();
    const responses = await Promise.all(Array.from({ length: 6 }, () => accept(user, "terms")));
    const statuses = responses.map((res) => res.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 201]);
    const ids = new Set(await Promise.all(responses.map(async (res) => (await res.json<ConsentRecord>()).id)));
    expect(ids.size).toBe(1);
    expect(await db().select().from(consents).where(eq(consents.userId, user.user.id))).toHaveLength(1);
    expect(await eventsOf(user.user.id, "consent.accept")).toHaveLength(1);
  });

  it("withdraws: the record keeps its history, sharing is refused, a repeat changes nothing, accepting again adds a record", async () => {
    const user = await createSessionUser();
    const accepted = await (await accept(user, "terms")).json<ConsentRecord>();
    await accept(user, "privacy", CURRENT_CONSENT_VERSIONS.privacy);
    expect(await hasCurrentConsent(db(), user.user.id)).toBe(true);

    const res = await withdraw(user, "terms");
    expect(res.status).toBe(200);
    const body = await res.json<{ withdrawn: ConsentRecord[]; status: ConsentStatus }>();
    expect(body.withdrawn).toHaveLength(1);
    expect(body.withdrawn[0]).toMatchObject({ id: accepted.id, acceptedAt: accepted.acceptedAt });
    expect(Date.parse(body.withdrawn[0]?.withdrawnAt ?? "")).not.toBeNaN();
    expect(body.status.accepted).toBe(false);
    expect(body.status.records.find((r) => r.id === accepted.id)?.withdrawnAt).toBe(body.withdrawn[0]?.withdrawnAt);
    expect(await hasCurrentConsent(db(), user.user.id)).toBe(false);
    await expect(requireCurrentConsent(db(), user.user.id, "Creating an invitation")).rejects.toMatchObject({
      code: "CONSENT_REQUIRED",
    });
    expect(await eventsOf(user.user.id, "consent.withdraw")).toHaveLength(1);

    const repeat = await withdraw(user, "terms");
    expect(repeat.status).toBe(200);
    expect((await repeat.json<{ withdrawn: ConsentRecord[] }>()).withdrawn).toEqual([]);
    expect(await eventsOf(user.user.id, "consent.withdraw")).toHaveLength(1);

    const renewed = await accept(user, "terms");
    expect(renewed.status).toBe(201);
    expect((await renewed.json<ConsentRecord>()).id).not.toBe(accepted.id);
    const after = await status(user);
    expect(after.accepted).toBe(true);
    expect(after.records.filter((r) => r.document === "terms")).toHaveLength(2);
    expect(await hasCurrentConsent(db(), user.user.id)).toBe(true);
  });

  it("keeps each person's records to themselves", async () => {
    const alice = await createSessionUser();
    const bob = await createSessionUser();
    await accept(alice, "terms");
    await accept(alice, "privacy", CURRENT_CONSENT_VERSIONS.privacy);
    expect((await status(bob)).records).toEqual([]);
    const res = await withdraw(bob, "terms");
    expect((await res.json<{ withdrawn: unknown[] }>()).withdrawn).toEqual([]);
    expect((await status(alice)).accepted).toBe(true);
    expect(await hasCurrentConsent(db(), alice.user.id)).toBe(true);
  });
});
