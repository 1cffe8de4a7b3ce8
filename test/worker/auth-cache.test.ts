import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ExpiringMap } from "../../src/auth/expiring-map";
import { forgetSession, SESSION_CACHE_TTL_MS, type SessionState, sessionState } from "../../src/auth/session-cache";
import { prepareSession } from "../../src/auth/sessions";
import { getConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import { sessions, users } from "../../src/db/schema";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser, testIp } from "./helpers/session-user";
import { createTestApp } from "./helpers/test-app";

// requireAuth() keeps verified tokens and session state in isolate memory (src/auth/session-cache.ts).
// These tests run the real middleware in this isolate, so they share its caches: what this isolate
// changes must apply at once; what "another isolate" changes (a write straight to D1) within 5 s.

const app = createTestApp();
const db = getDb(env.DB);

/** One request through the whole app, with the same `env` every time, as workerd passes it. */
function call(path: string, init: RequestInit = {}): Promise<Response> {
  return Promise.resolve(app.request(`http://localhost${path}`, init, env, createExecutionContext()));
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}`, "CF-Connecting-IP": testIp() });
const me = (token: string) => call("/v1/me", { headers: bearer(token) });
const adminList = (user: SessionUser) => call("/v1/admin/users?limit=1", { headers: user.headers });

async function expectSignedIn(token: string) {
  const res = await me(token);
  expect(res.status).toBe(200);
  return res.json<{ id: string; role: string }>();
}

/** A second session of the same user, as a sign-in on another device would create it. */
async function anotherSession(user: SessionUser) {
  const { writes, body } = await prepareSession({ db, config: getConfig(env) }, user.user, "interactive", "second device");
  const [first, ...rest] = writes;
  if (!first) throw new Error("prepareSession returned no writes");
  await db.batch([first, ...rest]);
  return body;
}

/** Freezes `Date` (only) at the real time; `advance(ms)` moves it. Timers and I/O stay real. */
function controlClock() {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
  return { advance: (ms: number) => vi.setSystemTime(Date.now() + ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("session revocation in the isolate that made it applies at once", () => {
  it("logout", async () => {
    const ada = await createSessionUser();
    await expectSignedIn(ada.accessToken);
    const out = await call("/v1/auth/logout", { method: "POST", headers: ada.headers });
    expect(out.status).toBe(204);
    await expectProblem(await me(ada.accessToken), 401, "UNAUTHENTICATED");
  });

  it("revoking one session from another", async () => {
    const ada = await createSessionUser();
    const laptop = await anotherSession(ada);
    await expectSignedIn(laptop.accessToken);
    const res = await call(`/v1/me/sessions/${laptop.sessionId}`, { method: "DELETE", headers: ada.headers });
    expect(res.status).toBe(204);
    await expectProblem(await me(laptop.accessToken), 401, "UNAUTHENTICATED");
    await expectSignedIn(ada.accessToken);
  });

  it("revoking every session", async () => {
    const ada = await createSessionUser();
    const laptop = await anotherSession(ada);
    await expectSignedIn(ada.accessToken);
    await expectSignedIn(laptop.accessToken);
    const res = await call("/v1/me/sessions", { method: "DELETE", headers: ada.headers });
    expect(res.status).toBe(200);
    await expectProblem(await me(laptop.accessToken), 401, "UNAUTHENTICATED");
    await expectProblem(await me(ada.accessToken), 401, "UNAUTHENTICATED");
  });

  it("reuse of a rotated refresh token revokes the session", async () => {
    const ada = await createSessionUser();
    await expectSignedIn(ada.accessToken);
    const refresh = (refreshToken: string) =>
      call("/v1/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": testIp() },
        body: JSON.stringify({ refreshToken }),
      });
    const rotated = await refresh(ada.refreshToken);
    expect(rotated.status).toBe(200);
    const { accessToken } = await rotated.json<{ accessToken: string }>();
    await expectSignedIn(accessToken);
    expect((await refresh(ada.refreshToken)).status).toBe(401);
    await expectProblem(await me(accessToken), 401, "UNAUTHENTICATED");
    await expectProblem(await me(ada.accessToken), 401, "UNAUTHENTICATED");
  });
});

describe("a role change in the isolate that made it applies at once", () => {
  it("a demoted admin loses admin routes on the next request; a promoted user gains them", async () => {
    const boss = await createSessionUser({ role: "admin" });
    const deputy = await createSessionUser({ role: "admin" });
    const patient = await createSessionUser();
    expect((await adminList(deputy)).status).toBe(200);
    await expectProblem(await adminList(patient), 403, "FORBIDDEN");

    const setRole = (userId: string, role: string) =>
      call(`/v1/admin/users/${userId}/role`, {
        method: "PUT",
        headers: { ...boss.headers, "Content-Type": "application/json" },
        body: JSON.stringify({ role }),
      });
    expect((await setRole(deputy.user.id, "clinician")).status).toBe(200);
    expect((await setRole(patient.user.id, "admin")).status).toBe(200);

    await expectProblem(await adminList(deputy), 403, "FORBIDDEN");
    expect((await adminList(patient)).status).toBe(200);
  });
});

describe("a change made elsewhere (straight to D1) applies within 5 s", () => {
  it("a revoked session is refused once the cached state is 5 s old", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    await expectSignedIn(ada.accessToken);
    await db.update(sessions).set({ revokedAt: new Date(), revokedReason: "revoked" }).where(eq(sessions.id, ada.sessionId));

    // This isolate did not see the write: its cached state still answers, for at most the TTL.
    await expectSignedIn(ada.accessToken);
    clock.advance(SESSION_CACHE_TTL_MS);
    await expectProblem(await me(ada.accessToken), 401, "UNAUTHENTICATED");
  });

  it("a role change is applied once the cached state is 5 s old", async () => {
    const clock = controlClock();
    const admin = await createSessionUser({ role: "admin" });
    expect((await adminList(admin)).status).toBe(200);
    await db.update(users).set({ role: "researcher" }).where(eq(users.id, admin.user.id));

    clock.advance(SESSION_CACHE_TTL_MS - 1);
    expect((await adminList(admin)).status).toBe(200);
    clock.advance(1);
    await expectProblem(await adminList(admin), 403, "FORBIDDEN");
  });

  it("a deleted account is refused once the cached state is 5 s old", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    await expectSignedIn(ada.accessToken);
    await db.update(users).set({ deletedAt: new Date() }).where(eq(users.id, ada.user.id));
    clock.advance(SESSION_CACHE_TTL_MS);
    await expectProblem(await me(ada.accessToken), 401, "UNAUTHENTICATED");
  });
});

describe("verified tokens kept in memory", () => {
  it("still expire with the token", async () => {
    const clock = controlClock();
    // A 15-minute token issued 14.5 minutes ago: 30 s left, plus 30 s of clock tolerance.
    const ada = await createSessionUser({ now: new Date(Date.now() - (14 * 60 + 30) * 1000) });
    await expectSignedIn(ada.accessToken);
    clock.advance(61 * 1000);
    await expectProblem(await me(ada.accessToken), 401, "UNAUTHENTICATED");
  });

  it("do not vouch for an altered copy of a cached token", async () => {
    const ada = await createSessionUser();
    const other = await createSessionUser();
    await expectSignedIn(ada.accessToken);
    const [header, , signature] = ada.accessToken.split(".");
    const [, otherPayload] = other.accessToken.split(".");
    await expectProblem(await me(`${header}.${otherPayload}.${signature}`), 401, "UNAUTHENTICATED");
    await expectProblem(await me(`${ada.accessToken}x`), 401, "UNAUTHENTICATED");
  });

  it("still record session activity, throttled, in the user's AuthActivity rather than D1", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    const created = Date.now();
    await expectSignedIn(ada.accessToken);
    const recorded = async () =>
      (await env.AUTH_ACTIVITY.getByName(ada.user.id).sessionsLastSeen([ada.sessionId]))[ada.sessionId];
    // Used every 4 minutes for 12 minutes: activity is recorded, so the session stays live.
    for (let minute = 4; minute <= 12; minute += 4) {
      clock.advance(4 * 60 * 1000);
      await expectSignedIn(ada.accessToken);
    }
    await vi.waitFor(async () => expect(await recorded()).toBe(created + 12 * 60 * 1000));
    const [row] = await db.select({ at: sessions.lastSeenAt }).from(sessions).where(eq(sessions.id, ada.sessionId));
    expect(row?.at.getTime()).toBe(created);
  });
});

describe("the session cache", () => {
  const live = (userId: string): SessionState => {
    const at = new Date();
    const session = {
      id: "ses_x",
      userId,
      kind: "interactive" as const,
      createdAt: at,
      lastSeenAt: at,
      expiresAt: new Date(at.getTime() + 60_000),
      revokedAt: null,
      revokedReason: null,
      userAgent: null,
    };
    return { session, role: "patient", userDeleted: false };
  };

  it("shares one read between concurrent requests and keeps it for the TTL", async () => {
    const id = `ses_${crypto.randomUUID()}`;
    let reads = 0;
    const read = async () => {
      reads += 1;
      return live("usr_a");
    };
    const now = Date.now();
    await Promise.all([sessionState(id, now, read), sessionState(id, now, read), sessionState(id, now, read)]);
    expect(reads).toBe(1);
    await sessionState(id, now + SESSION_CACHE_TTL_MS - 1, read);
    expect(reads).toBe(1);
    await sessionState(id, now + SESSION_CACHE_TTL_MS, read);
    expect(reads).toBe(2);
  });

  it("does not store a read that was in flight when the session was revoked here", async () => {
    const id = `ses_${crypto.randomUUID()}`;
    let release = () => {};
    const slow = () =>
      new Promise<SessionState>((resolve) => {
        release = () => resolve(live("usr_b"));
      });
    const now = Date.now();
    const racing = sessionState(id, now, slow);
    forgetSession(id);
    release();
    expect(await racing).toBeDefined();
    let reads = 0;
    const after = await sessionState(id, now, async () => {
      reads += 1;
      return undefined;
    });
    expect(after).toBeUndefined();
    expect(reads).toBe(1);
  });

  it("is bounded: the oldest write goes first", () => {
    const map = new ExpiringMap<string, number>(2);
    map.set("a", 1, 100, 0);
    map.set("b", 2, 100, 0);
    map.set("c", 3, 100, 0);
    expect(map.size).toBe(2);
    expect(map.get("a", 0)).toBeUndefined();
    expect(map.get("c", 0)).toBe(3);
    expect(map.get("c", 100)).toBeUndefined();
  });
});
