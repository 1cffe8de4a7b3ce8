/**
 * Session and device activity in the AuthActivity Durable Object, attacked as a client that never
 * stops, replays or races would: no session outlives its 12 hours or its revocation, whatever is
 * recorded; a DPoP proof passes once, also with the longest `jti`, from concurrent requests and
 * after the object purged its key.
 */
import { createExecutionContext, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { authOf, requireAuth } from "../../src/auth/middleware";
import { type DeviceKey, dpopProof, generateDeviceKey } from "./helpers/dpop";
import { durableObjectOverloaded } from "./helpers/faults";
import { createSessionUser, type SessionUser, testIp } from "./helpers/session-user";
import { createTestApp } from "./helpers/test-app";

const BASE = "http://localhost";
const UPLOADS = "/v1/test/uploads";
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;

const app = createTestApp();
app.post(UPLOADS, requireAuth({ scope: "uploads:write" }), (c) => c.json({ deviceId: authOf(c).deviceId ?? null }, 200));

afterEach(() => {
  vi.useRealTimers();
});

function controlClock() {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
  return { advance: (ms: number) => vi.setSystemTime(Date.now() + ms) };
}

/** One request through the whole app, its `waitUntil` work (the recorded use) included. */
async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.request(`${BASE}${path}`, init, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const bearer = (accessToken: string) => ({ Authorization: `Bearer ${accessToken}`, "CF-Connecting-IP": testIp() });

async function refresh(refreshToken: string): Promise<Response> {
  return call("/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": testIp() },
    body: JSON.stringify({ refreshToken }),
  });
}

async function listedSessionIds(user: SessionUser, accessToken = user.accessToken): Promise<string[]> {
  const res = await call("/v1/me/sessions", { headers: bearer(accessToken) });
  expect(res.status).toBe(200);
  return (await res.json<{ items: { id: string }[] }>()).items.map((item) => item.id);
}

describe("a session in constant use", () => {
  it("ends 12 hours after sign-in: neither its refreshes nor its recorded uses extend it", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    const signedInAt = Date.now();
    let tokens = { accessToken: ada.accessToken, refreshToken: ada.refreshToken };
    while (Date.now() + 14 * MINUTE < signedInAt + 12 * HOUR) {
      clock.advance(7 * MINUTE);
      expect((await call("/v1/me", { headers: bearer(tokens.accessToken) })).status).toBe(200);
      clock.advance(7 * MINUTE);
      const refreshed = await refresh(tokens.refreshToken);
      expect(refreshed.status).toBe(200);
      tokens = await refreshed.json<typeof tokens>();
    }
    clock.advance(signedInAt + 12 * HOUR - Date.now());
    expect((await call("/v1/me", { headers: bearer(tokens.accessToken) })).status).toBe(401);
    expect((await refresh(tokens.refreshToken)).status).toBe(401);
  });
});

describe("a revoked session", () => {
  it("stays ended though a use is recorded for it after the revocation", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    const other = await createSessionUser();
    clock.advance(2 * MINUTE);
    expect((await call(`/v1/me/sessions/${ada.sessionId}`, { method: "DELETE", headers: bearer(ada.accessToken) })).status).toBe(
      204,
    );
    // A request that was authenticated before the revocation records its use after it.
    await env.AUTH_ACTIVITY.getByName(ada.user.id).touchSession(ada.sessionId, Date.now(), Date.now() + 30 * MINUTE);
    clock.advance(6 * 1000);
    expect((await call("/v1/me", { headers: bearer(ada.accessToken) })).status).toBe(401);
    expect((await refresh(ada.refreshToken)).status).toBe(401);
    // Someone else's activity object knows nothing of it either.
    expect(await env.AUTH_ACTIVITY.getByName(other.user.id).sessionsLastSeen([ada.sessionId])).toEqual({});
  });

  it("stays ended after 'sign out everywhere' though its last use was recorded just before", async () => {
    const clock = controlClock();
    const ada = await createSessionUser();
    clock.advance(2 * MINUTE);
    expect((await call("/v1/me", { headers: bearer(ada.accessToken) })).status).toBe(200);
    expect((await call("/v1/me/sessions", { method: "DELETE", headers: bearer(ada.accessToken) })).status).toBe(200);
    expect((await refresh(ada.refreshToken)).status).toBe(401);
    const again = await createSessionUser();
    expect(await listedSessionIds(again)).not.toContain(ada.sessionId);
  });
});

interface Device {
  key: DeviceKey;
  credential: string;
  id: string;
}

async function enrol(user: SessionUser, key?: DeviceKey): Promise<Device> {
  const deviceKey = key ?? (await generateDeviceKey());
  const res = await call("/v1/me/devices", {
    method: "POST",
    headers: { ...user.headers, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Pixel 9", publicJwk: deviceKey.publicJwk }),
  });
  expect(res.status).toBe(201);
  const created = await res.json<{ device: { id: string }; credential: string }>();
  return { key: deviceKey, credential: created.credential, id: created.device.id };
}

const proofFor = (device: Device, options: { jti?: string; iat?: number } = {}) =>
  dpopProof(device.key, { method: "POST", url: `${BASE}${UPLOADS}`, credential: device.credential, ...options });

const upload = (device: Device, proof: string) =>
  call(UPLOADS, {
    method: "POST",
    headers: { Authorization: `DPoP ${device.credential}`, DPoP: proof, "CF-Connecting-IP": testIp() },
  });

describe("DPoP proofs against the AuthActivity", () => {
  it("pass once with a 256-character jti, also from five concurrent requests; 257 characters are refused", async () => {
    const device = await enrol(await createSessionUser());
    const proof = await proofFor(device, { jti: "j".repeat(256) });
    const statuses = await Promise.all(Array.from({ length: 5 }, () => upload(device, proof).then((res) => res.status)));
    expect(statuses.sort()).toEqual([200, 401, 401, 401, 401]);
    expect((await upload(device, await proofFor(device, { jti: "k".repeat(257) }))).status).toBe(401);
  });

  it("take the same jti once per device: another device of the same user has its own", async () => {
    const user = await createSessionUser();
    const [phone, watch] = [await enrol(user), await enrol(user)];
    expect((await upload(phone, await proofFor(phone, { jti: "shared" }))).status).toBe(200);
    expect((await upload(watch, await proofFor(watch, { jti: "shared" }))).status).toBe(200);
    expect((await upload(phone, await proofFor(phone, { jti: "shared" }))).status).toBe(401);
  });

  it("are refused after the object's alarm purged their key, and by a device re-created with the same key", async () => {
    const clock = controlClock();
    const user = await createSessionUser();
    const device = await enrol(user);
    const proof = await proofFor(device);
    expect((await upload(device, proof)).status).toBe(200);
    // Past the key's time and the purge delay: the alarm deletes it.
    clock.advance(10 * MINUTE);
    expect(await runDurableObjectAlarm(env.AUTH_ACTIVITY.getByName(user.user.id))).toBe(true);
    expect((await upload(device, proof)).status).toBe(401);

    // Revoked, then enrolled again with the same key: a fresh proof of the old credential still fails.
    expect((await call(`/v1/me/devices/${device.id}`, { method: "DELETE", headers: user.headers })).status).toBe(204);
    const again = await enrol(user, device.key);
    const stale = await proofFor(device);
    expect((await upload(again, stale)).status).toBe(401);
    expect((await upload(device, await proofFor(device))).status).toBe(401);
    expect((await upload(again, await proofFor(again))).status).toBe(200);
  });
});

/** The AuthActivity namespace with every object refusing calls as an overloaded object does. */
function overloadedActivity(): DurableObjectNamespace {
  const refuse = () => Promise.reject(durableObjectOverloaded());
  const stub = new Proxy({}, { get: (_target, name) => (name === "then" ? undefined : refuse) });
  return new Proxy(env.AUTH_ACTIVITY, {
    get: (target, name) => (name === "getByName" ? () => stub : Reflect.get(target, name)),
  }) as DurableObjectNamespace;
}

async function callWith(bindings: Partial<Env>, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.request(`${BASE}${path}`, init, { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("the AuthActivity unavailable", () => {
  it("answers 503 with Retry-After where it must be read, and never blocks an ordinary read", async () => {
    const clock = controlClock();
    const user = await createSessionUser();
    const device = await enrol(user);
    const down = { AUTH_ACTIVITY: overloadedActivity() as Env["AUTH_ACTIVITY"] };
    clock.advance(2 * MINUTE);

    // Recording a use is best effort: the read answers.
    expect((await callWith(down, "/v1/me", { headers: bearer(user.accessToken) })).status).toBe(200);
    for (const res of [
      await callWith(down, "/v1/me/sessions", { headers: bearer(user.accessToken) }),
      await callWith(down, UPLOADS, {
        method: "POST",
        headers: { Authorization: `DPoP ${device.credential}`, DPoP: await proofFor(device), "CF-Connecting-IP": testIp() },
      }),
    ]) {
      expect(res.status).toBe(503);
      expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    }
    // A refresh D1 alone calls idle needs the record: unavailable, not "signed out".
    clock.advance(40 * MINUTE);
    const refreshed = await callWith(down, "/v1/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": testIp() },
      body: JSON.stringify({ refreshToken: user.refreshToken }),
    });
    expect(refreshed.status).toBe(503);
  });
});
