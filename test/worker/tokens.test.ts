import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { issueAccessToken } from "../../src/auth/access-token";
import { prepareSession } from "../../src/auth/sessions";
import { getConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import type { SessionKind } from "../../src/db/schema";
import { createUser } from "../../src/users/users";

const BASE = "http://localhost";
const config = getConfig(env);
const db = getDb(env.DB);
const system = { actor: "test", role: "system" as const, reason: null, requestId: null, ip: null };

/** A user with a session created directly (the passkey ceremony is tested in passkeys tests). */
async function signedIn(kind: SessionKind = "interactive") {
  const user = await createUser({ db }, { username: `tok-${crypto.randomUUID()}`, displayName: "Token Tester" }, system);
  const { writes, body } = await prepareSession({ db, config }, user, kind, "vitest");
  const [first, ...rest] = writes;
  if (!first) throw new Error("no session writes");
  await db.batch([first, ...rest]);
  return { ...body, row: user };
}

function fetchApi(path: string, init: RequestInit = {}, ip = crypto.randomUUID()) {
  const headers = new Headers(init.headers);
  headers.set("CF-Connecting-IP", `10.${ip.charCodeAt(0) % 200}.${ip.charCodeAt(1) % 200}.${ip.charCodeAt(2) % 200}`);
  return exports.default.fetch(`${BASE}${path}`, { ...init, headers });
}

const me = (token: string) => fetchApi("/v1/me", { headers: { Authorization: `Bearer ${token}` } });
const refresh = (refreshToken: string) =>
  fetchApi("/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refreshToken }),
  });

function b64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function expect401(res: Response) {
  expect(res.status).toBe(401);
  // Bearer-protected routes say how to authenticate; the refresh route takes its token in the body.
  if (!res.url.endsWith("/v1/auth/refresh")) expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
  const body = await res.json<{ code: string }>();
  expect(body.code).toBe("UNAUTHENTICATED");
}

describe("access tokens", () => {
  it("grant access to /v1/me", async () => {
    const session = await signedIn();
    const res = await me(session.accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: session.user.id, username: session.user.username, role: "patient" });
  });

  it("are published at /.well-known/jwks.json without private parts", async () => {
    const res = await fetchApi("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    const { keys } = await res.json<{ keys: Record<string, string>[] }>();
    expect(keys.map((k) => k.kid)).toEqual(config.JWT_SIGNING_KEYS.map((k) => k.kid));
    for (const key of keys) {
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
      expect(key.d).toBeUndefined();
    }
  });

  it("are refused without a token or with a malformed header", async () => {
    await expect401(await fetchApi("/v1/me"));
    await expect401(await fetchApi("/v1/me", { headers: { Authorization: "Bearer" } }));
    await expect401(await fetchApi("/v1/me", { headers: { Authorization: "Basic dXNlcjpwYXNz" } }));
    await expect401(await me("not.a.jwt"));
  });

  it("refuse alg none", async () => {
    const session = await signedIn();
    const [, payload] = session.accessToken.split(".");
    const header = b64url(JSON.stringify({ alg: "none", typ: "at+jwt", kid: config.JWT_SIGNING_KEYS[0]?.kid }));
    await expect401(await me(`${header}.${payload}.`));
  });

  it("refuse HS256 signed with the public key", async () => {
    const session = await signedIn();
    const [, payload] = session.accessToken.split(".");
    const jwk = config.JWT_SIGNING_KEYS[0];
    const publicJwk = JSON.stringify({ kid: jwk?.kid, kty: "EC", crv: "P-256", x: jwk?.x, y: jwk?.y });
    const header = b64url(JSON.stringify({ alg: "HS256", typ: "at+jwt", kid: jwk?.kid }));
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(publicJwk),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${header}.${payload}`)));
    await expect401(await me(`${header}.${payload}.${b64url(signature)}`));
  });

  it("refuse an unknown kid, and a key that is not ours", async () => {
    const session = await signedIn();
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    for (const kid of ["unknown-kid", config.JWT_SIGNING_KEYS[0]?.kid ?? ""]) {
      const forged = await new SignJWT({ sid: session.sessionId, role: "admin", scope: "user" })
        .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
        .setSubject(session.user.id)
        .setIssuer(config.JWT_ISSUER)
        .setAudience(config.JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(pair.privateKey);
      await expect401(await me(forged));
    }
  });

  it("refuse the wrong issuer or audience", async () => {
    const session = await signedIn();
    const subject = { userId: session.user.id, sessionId: session.sessionId, role: "patient" as const, scopes: ["user"] };
    await expect401(await me(await issueAccessToken({ ...config, JWT_ISSUER: "https://evil.example" }, subject)));
    await expect401(await me(await issueAccessToken({ ...config, JWT_AUDIENCE: "another-api" }, subject)));
  });

  it("refuse expired and not-yet-valid tokens", async () => {
    const session = await signedIn();
    const subject = { userId: session.user.id, sessionId: session.sessionId, role: "patient" as const, scopes: ["user"] };
    await expect401(await me(await issueAccessToken(config, subject, Date.now() - 16 * 60 * 1000)));
    await expect401(await me(await issueAccessToken(config, subject, Date.now() + 5 * 60 * 1000)));
  });

  it("refuse a tampered payload", async () => {
    const session = await signedIn();
    const [header, payload, signature] = session.accessToken.split(".");
    const claims = JSON.parse(atob((payload ?? "").replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
    const tampered = b64url(JSON.stringify({ ...claims, role: "admin" }));
    await expect401(await me(`${header}.${tampered}.${signature}`));
  });

  it("refuse a valid token written with padding or other decorations", async () => {
    const session = await signedIn();
    expect((await me(session.accessToken)).status).toBe(200);
    for (const decorated of [`${session.accessToken}==`, `${session.accessToken}.`, ` ${session.accessToken}`]) {
      await expect401(await me(decorated));
    }
  });

  it("stop working when their session is revoked", async () => {
    const session = await signedIn();
    const other = await signedIn();
    const res = await fetchApi("/v1/auth/logout", {
      method: "POST",
      headers: { Authorization: `Bearer ${session.accessToken}` },
    });
    expect(res.status).toBe(204);
    await expect401(await me(session.accessToken));
    await expect401(await refresh(session.refreshToken));
    expect((await me(other.accessToken)).status).toBe(200);
  });

  it("carry the user's current role, not the one at issue time", async () => {
    const session = await signedIn();
    await env.DB.prepare("UPDATE users SET role = 'clinician' WHERE id = ?").bind(session.user.id).run();
    expect(await (await me(session.accessToken)).json()).toMatchObject({ role: "clinician" });
  });

  it("of a recovery session open nothing but their own routes", async () => {
    const session = await signedIn("recovery");
    const res = await me(session.accessToken);
    expect(res.status).toBe(403);
    expect((await res.json<{ code: string }>()).code).toBe("FORBIDDEN");
  });

  it("keep verifying after a key rotation", async () => {
    const session = await signedIn();
    const fresh = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", fresh.privateKey)) as JsonWebKey;
    const rotated = {
      ...env,
      JWT_SIGNING_KEYS: JSON.stringify([
        { kid: "rotated-2", kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d },
        ...config.JWT_SIGNING_KEYS,
      ]),
    };
    const { createTestApp, call } = await import("./helpers/test-app");
    const app = createTestApp();
    const old = await call(app, "/v1/me", { headers: { Authorization: `Bearer ${session.accessToken}` } }, rotated);
    expect(old.status).toBe(200);
    const keys = await (await call(app, "/.well-known/jwks.json", {}, rotated)).json<{ keys: { kid: string }[] }>();
    expect(keys.keys.map((k) => k.kid)).toEqual(["rotated-2", ...config.JWT_SIGNING_KEYS.map((k) => k.kid)]);
    const renewed = await call(
      app,
      "/v1/auth/refresh",
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refreshToken: session.refreshToken }),
      },
      rotated,
    );
    const { accessToken } = await renewed.json<{ accessToken: string }>();
    const header = JSON.parse(atob((accessToken.split(".")[0] ?? "").replaceAll("-", "+").replaceAll("_", "/"))) as {
      kid: string;
    };
    expect(header.kid).toBe("rotated-2");
  });
});

describe("refresh tokens", () => {
  it("rotate on every use", async () => {
    const session = await signedIn();
    const res = await refresh(session.refreshToken);
    expect(res.status).toBe(200);
    const next = await res.json<{ accessToken: string; refreshToken: string; sessionId: string; expiresIn: number }>();
    expect(next.refreshToken).not.toBe(session.refreshToken);
    expect(next.sessionId).toBe(session.sessionId);
    expect(next.expiresIn).toBe(900);
    expect((await me(next.accessToken)).status).toBe(200);
    expect((await refresh(next.refreshToken)).status).toBe(200);
  });

  it("revoke the whole session when a used token is presented again", async () => {
    const session = await signedIn();
    const next = await (await refresh(session.refreshToken)).json<{ accessToken: string; refreshToken: string }>();
    await expect401(await refresh(session.refreshToken));
    await expect401(await refresh(next.refreshToken));
    await expect401(await me(next.accessToken));
    const event = await env.DB.prepare(
      "SELECT action, result FROM security_events WHERE subject = ? AND action = 'refresh_token.reuse'",
    )
      .bind(session.user.id)
      .first();
    expect(event).toEqual({ action: "refresh_token.reuse", result: "denied" });
  });

  it("let exactly one of two concurrent refreshes win", async () => {
    const session = await signedIn();
    const results = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it("end after 30 minutes idle and after 12 hours in all", async () => {
    const idle = await signedIn();
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE id = ?")
      .bind(Date.now() - 31 * 60 * 1000, idle.sessionId)
      .run();
    await expect401(await refresh(idle.refreshToken));
    await expect401(await me(idle.accessToken));

    const old = await signedIn();
    await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, old.sessionId)
      .run();
    await expect401(await refresh(old.refreshToken));
  });

  it("refuse garbage, unknown ids and wrong secrets alike", async () => {
    const session = await signedIn();
    const [id] = session.refreshToken.split(".");
    for (const token of ["nonsense", `${id}.${"A".repeat(43)}`, `rtk_${"a".repeat(26)}.${"B".repeat(43)}`])
      await expect401(await refresh(token));
    const bad = await fetchApi("/v1/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(bad.status).toBe(400);
  });
});

describe("sessions", () => {
  it("are listed with the current one marked, and can be revoked one by one", async () => {
    const first = await signedIn();
    const { writes, body: second } = await prepareSession({ db, config }, first.row, "interactive", "second device");
    const [w, ...ws] = writes;
    if (w) await db.batch([w, ...ws]);
    const auth = { Authorization: `Bearer ${first.accessToken}` };
    const listed = await (await fetchApi("/v1/me/sessions", { headers: auth })).json<{
      items: { id: string; current: boolean }[];
    }>();
    expect(listed.items.map((s) => [s.id, s.current]).sort()).toEqual(
      [
        [first.sessionId, true],
        [second.sessionId, false],
      ].sort(),
    );
    expect((await fetchApi(`/v1/me/sessions/${second.sessionId}`, { method: "DELETE", headers: auth })).status).toBe(204);
    await expect401(await me(second.accessToken));
    expect((await me(first.accessToken)).status).toBe(200);
  });

  it("of another user answer 404, and malformed ids 400", async () => {
    const mine = await signedIn();
    const theirs = await signedIn();
    const auth = { Authorization: `Bearer ${mine.accessToken}` };
    const res = await fetchApi(`/v1/me/sessions/${theirs.sessionId}`, { method: "DELETE", headers: auth });
    expect(res.status).toBe(404);
    expect((await me(theirs.accessToken)).status).toBe(200);
    expect((await fetchApi("/v1/me/sessions/not-an-id", { method: "DELETE", headers: auth })).status).toBe(400);
  });

  it("can all be revoked at once", async () => {
    const session = await signedIn();
    const res = await fetchApi("/v1/me/sessions", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${session.accessToken}` },
    });
    expect(await res.json()).toEqual({ revoked: 1, devicesRevoked: 0 });
    await expect401(await me(session.accessToken));
  });
});
