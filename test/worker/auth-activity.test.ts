/**
 * Credential activity off D1 (docs/identity.md, "Where activity lives"): an ordinary authenticated
 * request writes nothing to D1, its use is recorded in the user's AuthActivity, and the 30-minute
 * idle rule still ends a session left alone — at refresh, reading that record. DPoP keys in the
 * same object: single-use under concurrency, purged once expired, and the object's storage gone
 * when nothing is left.
 */
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { getDb } from "../../src/db/client";
import { sessions } from "../../src/db/schema";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser, testIp } from "./helpers/session-user";
import { createTestApp } from "./helpers/test-app";

const app = createTestApp();
const db = getDb(env.DB);
const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;

/** Freezes `Date` (only) at the real time; `advance(ms)` moves it. Timers and I/O stay real. */
function controlClock() {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
  return { advance: (ms: number) => vi.setSystemTime(Date.now() + ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

/**
 * The real local D1 behind a proxy that writes down every statement prepared on it: drizzle
 * prepares each statement it runs, alone or in a batch, so what is not a SELECT is a write.
 */
function countingD1(): { binding: D1Database; statements: string[]; writes: () => string[] } {
  const statements: string[] = [];
  const binding = new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare" || property === "exec") {
        return (query: string) => {
          statements.push(query);
          return property === "prepare" ? target.prepare(query) : target.exec(query);
        };
      }
      if (property === "withSession") throw new Error("a D1 session would bypass the count");
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { binding, statements, writes: () => statements.filter((query) => !/^\s*select\b/i.test(query)) };
}

/** One request through the whole app, waiting for its `waitUntil` work too. */
async function call(path: string, init: RequestInit = {}, bindings: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.request(`http://localhost${path}`, init, { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const read = (user: SessionUser, path: string, bindings: Partial<Env> = {}) => call(path, { headers: user.headers }, bindings);

const refresh = (refreshToken: string, bindings: Partial<Env> = {}) =>
  call(
    "/v1/auth/refresh",
    {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": testIp() },
      body: JSON.stringify({ refreshToken }),
    },
    bindings,
  );

async function storedSession(id: string) {
  const [row] = await db.select().from(sessions).where(eq(sessions.id, id));
  if (!row) throw new Error(`session ${id} not stored`);
  return row;
}

async function listedLastSeen(user: SessionUser): Promise<string | undefined> {
  const res = await read(user, "/v1/me/sessions");
  expect(res.status).toBe(200);
  const { items } = await res.json<{ items: { id: string; lastSeenAt: string }[] }>();
  return items.find((item) => item.id === user.sessionId)?.lastSeenAt;
}

describe("an authenticated read", () => {
  it("writes nothing to D1, also minutes later, and its use shows in the sessions list", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    const signedInAt = Date.now();
    await healthStoreFor(env.HEALTH_STORE, ada.user.id).ingestBatch(
      { observations: [observationInput("heart_rate", "bpm", signedInAt - MINUTE, 61)] },
      { actor: "etl", role: "system", subject: ada.user.id, reason: null, requestId: null, ip: null },
    );
    const d1 = countingD1();
    const reads = async () => {
      expect((await read(ada, "/v1/me", { DB: d1.binding })).status).toBe(200);
      const latest = await read(ada, "/v1/observations/latest?metrics=heart_rate", { DB: d1.binding });
      expect(latest.status).toBe(200);
      expect((await latest.json<{ items: { value: number }[] }>()).items.map((item) => item.value)).toEqual([61]);
    };

    await reads();
    // Past the one-minute throttle, and past the 5 s session cache: the session is read again.
    clock.advance(2 * MINUTE);
    await reads();
    clock.advance(5 * MINUTE);
    await reads();
    expect(d1.statements.length).toBeGreaterThan(0);
    expect(d1.writes()).toEqual([]);

    // The uses went to the AuthActivity: the list shows the last one; D1 still has the sign-in.
    expect(await listedLastSeen(ada)).toBe(new Date(signedInAt + 7 * MINUTE).toISOString());
    expect((await storedSession(ada.sessionId)).lastSeenAt.getTime()).toBe(signedInAt);

    // The counter does see writes: a refresh issues tokens, and that is written to D1.
    expect((await refresh(ada.refreshToken, { DB: d1.binding })).status).toBe(200);
    expect(d1.writes().length).toBeGreaterThan(0);
  });
});

describe("the 30-minute idle rule, decided at refresh", () => {
  it("refuses a refresh after 31 minutes without use, and ends the session", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    const signedInAt = Date.now();
    clock.advance(2 * MINUTE);
    expect((await read(ada, "/v1/me")).status).toBe(200);

    clock.advance(31 * MINUTE);
    expect((await refresh(ada.refreshToken)).status).toBe(401);
    const ended = await storedSession(ada.sessionId);
    expect(ended.revokedReason).toBe("idle");
    // Its last use is kept in D1 with the session, for "where was I signed in".
    expect(ended.lastSeenAt.getTime()).toBe(signedInAt + 2 * MINUTE);
  });

  it("allows a refresh at minute 40 after a use at minute 14", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    const signedInAt = Date.now();
    clock.advance(14 * MINUTE);
    expect((await read(ada, "/v1/me")).status).toBe(200);

    clock.advance(26 * MINUTE);
    const refreshed = await refresh(ada.refreshToken);
    expect(refreshed.status).toBe(200);
    const { accessToken } = await refreshed.json<{ accessToken: string }>();
    expect((await read({ ...ada, headers: { ...ada.headers, Authorization: `Bearer ${accessToken}` } }, "/v1/me")).status).toBe(
      200,
    );
    expect((await storedSession(ada.sessionId)).lastSeenAt.getTime()).toBe(signedInAt + 40 * MINUTE);
  });

  it("refuses the same refresh at minute 40 when the session was not used after sign-in", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    clock.advance(40 * MINUTE);
    expect((await refresh(ada.refreshToken)).status).toBe(401);
    expect((await storedSession(ada.sessionId)).revokedReason).toBe("idle");
  });
});

describe("the AuthActivity object", () => {
  const activity = () => env.AUTH_ACTIVITY.getByName(`usr_${crypto.randomUUID()}`);

  it("accepts a DPoP key once, even from concurrent uses; keys are per device", async () => {
    const stub = activity();
    const now = Date.now();
    const use = (deviceId: string) => stub.useDpopProof(deviceId, "jti-hash", now + MINUTE, now, now + 90 * DAY);
    const results = await Promise.all([use("dev_a"), use("dev_a"), use("dev_a"), use("dev_a")]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await use("dev_b")).toBe(true);
    expect(await use("dev_a")).toBe(false);
    expect(Object.keys(await stub.devicesLastUsed(["dev_a", "dev_b", "dev_c"])).sort()).toEqual(["dev_a", "dev_b"]);
  });

  it("purges expired keys and uses at its alarm, and keeps what still matters", async () => {
    const stub = activity();
    const now = Date.now();
    expect(await stub.useDpopProof("dev_a", "old", now - 1000, now - 2000, now + 90 * DAY)).toBe(true);
    expect(await stub.useDpopProof("dev_a", "live", now + 10 * MINUTE, now, now + 90 * DAY)).toBe(true);
    await stub.touchSession("ses_gone", now - 40 * MINUTE, now - 10 * MINUTE);
    await stub.touchSession("ses_live", now, now + 30 * MINUTE);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const keys = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ jti_hash: string }>("SELECT jti_hash FROM dpop_keys").toArray(),
    );
    expect(keys).toEqual([{ jti_hash: "live" }]);
    expect(await stub.sessionsLastSeen(["ses_gone", "ses_live"])).toEqual({ ses_live: now });
    // What is left keeps an alarm for its own expiry.
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toEqual(expect.any(Number));
  });

  it("deletes its storage entirely once nothing is left, and after forget()", async () => {
    const idle = activity();
    const now = Date.now();
    await idle.touchSession("ses_x", now - 40 * MINUTE, now - 10 * MINUTE);
    expect(await runDurableObjectAlarm(idle)).toBe(true);
    expect(await storageOf(idle)).toEqual({ tables: [], alarm: null });
    // Reading an empty object stores nothing.
    expect(await idle.sessionsLastSeen(["ses_x"])).toEqual({});
    expect(await storageOf(idle)).toEqual({ tables: [], alarm: null });

    const busy = activity();
    await busy.touchSession("ses_y", now, now + 30 * MINUTE);
    expect(await busy.useDpopProof("dev_a", "k", now + MINUTE, now, now + 90 * DAY)).toBe(true);
    await busy.forget();
    expect(await storageOf(busy)).toEqual({ tables: [], alarm: null });
    // A use after forget() starts afresh, and expires by itself again.
    expect(await busy.useDpopProof("dev_a", "k", now + MINUTE, now, now + 90 * DAY)).toBe(true);
  });
});

async function storageOf(stub: DurableObjectStub): Promise<{ tables: string[]; alarm: number | null }> {
  return runInDurableObject(stub, async (_instance, state) => ({
    tables: state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
      .toArray()
      .map((row) => row.name),
    alarm: await state.storage.getAlarm(),
  }));
}
