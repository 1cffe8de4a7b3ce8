import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { calculateJwkThumbprint } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { authOf, requireAuth } from "../../src/auth/middleware";
import { sha256Hex } from "../../src/auth/secrets";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import { devices, securityEvents, users } from "../../src/db/schema";
import { type DeviceKey, dpopHeaders, dpopProof, generateDeviceKey } from "./helpers/dpop";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

const BASE = "http://localhost";
const UPLOADS = "/v1/test/uploads";
const DAY_MS = 24 * 60 * 60 * 1000;
const db = getDb(env.DB);

afterEach(() => {
  vi.useRealTimers();
});

// Stands in for the real uploads route: the one scope a device credential carries.
const app = createTestApp();
app.post(UPLOADS, requireAuth({ scope: "uploads:write" }), (c) => {
  const auth = authOf(c);
  return c.json({ userId: auth.userId, kind: auth.kind, deviceId: auth.deviceId ?? null, scopes: auth.scopes }, 200);
});

interface CreatedDevice {
  device: { id: string; name: string; scopes: string[]; createdAt: string; lastUsedAt: string | null; expiresAt: string };
  credential: string;
}

function createDeviceRequest(user: SessionUser, body: unknown): Promise<Response> {
  return call(app, "/v1/me/devices", {
    method: "POST",
    headers: { ...user.headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function enrolledDevice(user?: SessionUser): Promise<{ user: SessionUser; key: DeviceKey; created: CreatedDevice }> {
  const owner = user ?? (await createSessionUser());
  const key = await generateDeviceKey();
  const res = await createDeviceRequest(owner, { name: "Pixel 9", publicJwk: key.publicJwk });
  expect(res.status).toBe(201);
  return { user: owner, key, created: await res.json<CreatedDevice>() };
}

/** A request as the device would send it, with a fresh proof unless the test brings its own. */
async function asDevice(
  device: { key: DeviceKey; created: CreatedDevice; user: SessionUser },
  options: { method?: string; path?: string; proof?: string | null; authorization?: string } = {},
): Promise<Response> {
  const method = options.method ?? "POST";
  const path = options.path ?? UPLOADS;
  const headers: Record<string, string> = {
    ...(await dpopHeaders(device.key, device.created.credential, method, `${BASE}${path}`)),
    "CF-Connecting-IP": device.user.headers["CF-Connecting-IP"] ?? "10.0.0.1",
  };
  if (options.authorization !== undefined) headers.Authorization = options.authorization;
  if (options.proof === null) delete headers.DPoP;
  else if (options.proof !== undefined) headers.DPoP = options.proof;
  return call(app, path, { method, headers });
}

async function expectDpopRefusal(res: Response, error: "invalid_token" | "invalid_dpop_proof"): Promise<void> {
  expect(res.headers.get("WWW-Authenticate")).toBe(`DPoP realm="pulse", error="${error}", algs="ES256"`);
  await expectProblem(res, 401, "UNAUTHENTICATED");
}

async function storedDevice(id: string) {
  const [row] = await db.select().from(devices).where(eq(devices.id, id));
  if (!row) throw new Error(`device ${id} not stored`);
  return row;
}

describe("POST /v1/me/devices", () => {
  it("creates a DPoP-bound uploads:write credential, shown once and stored hashed", async () => {
    const { user, key, created } = await enrolledDevice();
    expect(created.credential).toMatch(/^dev_[a-z2-7]{26}\.[A-Za-z0-9_-]{43}$/);
    const [id, secret = ""] = created.credential.split(".");
    expect(created.device).toMatchObject({ id, name: "Pixel 9", scopes: ["uploads:write"], lastUsedAt: null });
    expect(Date.parse(created.device.expiresAt) - Date.parse(created.device.createdAt)).toBe(90 * DAY_MS);

    const row = await storedDevice(created.device.id);
    expect(row.userId).toBe(user.user.id);
    expect(row.secretHash).toBe(await sha256Hex(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.jkt).toBe(await calculateJwkThumbprint(key.publicJwk, "sha256"));

    const [event] = await db
      .select()
      .from(securityEvents)
      .where(eq(securityEvents.resource, `device:${created.device.id}`));
    expect(event).toMatchObject({ action: "device.create", actor: user.user.id, subject: user.user.id, result: "success" });
  });

  it("accepts a public key exactly as WebCrypto exports it", async () => {
    const user = await createSessionUser();
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const exported = await crypto.subtle.exportKey("jwk", pair.publicKey);
    expect(exported).toMatchObject({ ext: true, key_ops: ["verify"] });
    expect((await createDeviceRequest(user, { name: "Tablet", publicJwk: exported })).status).toBe(201);
  });

  it("refuses private keys, other curves and key types, and points off the curve", async () => {
    const user = await createSessionUser();
    const { publicJwk } = await generateDeviceKey();
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
    const p384 = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const cases: unknown[] = [
      privateJwk,
      { ...publicJwk, d: "A".repeat(43) },
      await crypto.subtle.exportKey("jwk", p384.publicKey),
      { kty: "OKP", crv: "Ed25519", x: publicJwk.x },
      { kty: "RSA", n: "AQAB", e: "AQAB" },
      { ...publicJwk, y: publicJwk.x },
    ];
    for (const jwk of cases) {
      const res = await createDeviceRequest(user, { name: "Bad key", publicJwk: jwk });
      await expectProblem(res.clone(), 400, "VALIDATION_FAILED");
      const body = await res.json<{ errors: { path: string }[] }>();
      expect(body.errors.some((error) => error.path.startsWith("publicJwk"))).toBe(true);
    }
    const [stored] = await db.select().from(devices).where(eq(devices.userId, user.user.id));
    expect(stored).toBeUndefined();
  });

  it("refuses a missing name and unknown fields", async () => {
    const user = await createSessionUser();
    const { publicJwk } = await generateDeviceKey();
    for (const body of [{ publicJwk }, { name: " ", publicJwk }, { name: "x", publicJwk, scopes: ["user"] }]) {
      await expectProblem(await createDeviceRequest(user, body), 400, "VALIDATION_FAILED");
    }
  });

  it("refuses more than 20 live credentials per user (409)", async () => {
    const { user, created } = await enrolledDevice();
    const template = await storedDevice(created.device.id);
    // D1 binds at most 100 parameters per statement: one insert per row.
    const [head, ...more] = Array.from({ length: 19 }, () => db.insert(devices).values({ ...template, id: newId("dev") }));
    if (head) await db.batch([head, ...more]);
    const { publicJwk } = await generateDeviceKey();
    await expectProblem(await createDeviceRequest(user, { name: "One too many", publicJwk }), 409, "CONFLICT");
  });
});

describe("GET /v1/me/devices", () => {
  it("lists the user's own live credentials, newest first, a page at a time", async () => {
    const { user, created: first } = await enrolledDevice();
    const { created: second } = await enrolledDevice(user);
    const { created: third } = await enrolledDevice(user);
    await enrolledDevice(); // someone else's
    const revoke = await call(app, `/v1/me/devices/${second.device.id}`, { method: "DELETE", headers: user.headers });
    expect(revoke.status).toBe(204);

    const page1 = await call(app, "/v1/me/devices?limit=1", { headers: user.headers });
    expect(page1.status).toBe(200);
    const body1 = await page1.json<{ items: CreatedDevice["device"][]; nextCursor: string | null }>();
    expect(body1.items).toEqual([third.device]);
    expect(body1.nextCursor).toEqual(expect.any(String));

    const page2 = await call(app, `/v1/me/devices?limit=1&cursor=${body1.nextCursor}`, { headers: user.headers });
    const body2 = await page2.json<{ items: CreatedDevice["device"][]; nextCursor: string | null }>();
    expect(body2).toEqual({ items: [first.device], nextCursor: null });
    expect(JSON.stringify([body1, body2])).not.toContain("secret");
  });

  it("refuses a cursor it did not issue (400)", async () => {
    const user = await createSessionUser();
    const res = await call(app, "/v1/me/devices?cursor=1' OR 1=1", { headers: user.headers });
    await expectProblem(res, 400, "VALIDATION_FAILED");
  });
});

describe("DELETE /v1/me/devices/:id", () => {
  it("revokes the credential at once and audits it", async () => {
    const device = await enrolledDevice();
    expect((await asDevice(device)).status).toBe(200);
    const res = await call(app, `/v1/me/devices/${device.created.device.id}`, { method: "DELETE", headers: device.user.headers });
    expect(res.status).toBe(204);
    await expectDpopRefusal(await asDevice(device), "invalid_token");
    const [event] = await db
      .select()
      .from(securityEvents)
      .where(and(eq(securityEvents.resource, `device:${device.created.device.id}`), eq(securityEvents.action, "device.revoke")));
    expect(event).toMatchObject({ actor: device.user.user.id, subject: device.user.user.id, result: "success" });
    const again = await call(app, `/v1/me/devices/${device.created.device.id}`, {
      method: "DELETE",
      headers: device.user.headers,
    });
    await expectProblem(again, 404, "NOT_FOUND");
  });

  it("answers 400 for a malformed id and 404 for an unknown one", async () => {
    const user = await createSessionUser();
    await expectProblem(
      await call(app, "/v1/me/devices/usr_x", { method: "DELETE", headers: user.headers }),
      400,
      "VALIDATION_FAILED",
    );
    const unknown = `/v1/me/devices/dev_${"a".repeat(26)}`;
    await expectProblem(await call(app, unknown, { method: "DELETE", headers: user.headers }), 404, "NOT_FOUND");
  });
});

describe("a device credential", () => {
  it("calls an uploads:write route as its user and records the use", async () => {
    const device = await enrolledDevice();
    const res = await asDevice(device);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      userId: device.user.user.id,
      kind: "device",
      deviceId: device.created.device.id,
      scopes: ["uploads:write"],
    });
    expect((await storedDevice(device.created.device.id)).lastUsedAt).toBeInstanceOf(Date);
    const listed = await call(app, "/v1/me/devices", { headers: device.user.headers });
    const { items } = await listed.json<{ items: CreatedDevice["device"][] }>();
    expect(items[0]?.lastUsedAt).toEqual(expect.any(String));
  });

  it("can call nothing that needs the full account (403)", async () => {
    const device = await enrolledDevice();
    await expectProblem(await asDevice(device, { method: "GET", path: "/v1/me/devices" }), 403, "FORBIDDEN");
    await expectProblem(
      await asDevice(device, { method: "DELETE", path: `/v1/me/devices/${device.created.device.id}` }),
      403,
      "FORBIDDEN",
    );
    expect((await storedDevice(device.created.device.id)).revokedAt).toBeNull();
  });

  it("is not a bearer token", async () => {
    const device = await enrolledDevice();
    const res = await asDevice(device, { authorization: `Bearer ${device.created.credential}` });
    await expectProblem(res, 401, "UNAUTHENTICATED");
  });

  it("refuses a wrong secret or an unknown credential (invalid_token)", async () => {
    const device = await enrolledDevice();
    const [id] = device.created.credential.split(".");
    const wrongSecret = `${id}.${"A".repeat(43)}`;
    await expectDpopRefusal(await asDevice(device, { authorization: `DPoP ${wrongSecret}` }), "invalid_token");
    await expectDpopRefusal(await asDevice(device, { authorization: "DPoP dev_nonsense" }), "invalid_token");
  });

  it("stops working after 90 days without use", async () => {
    const device = await enrolledDevice();
    const id = device.created.device.id;
    await db
      .update(devices)
      .set({ createdAt: new Date(Date.now() - 200 * DAY_MS), lastUsedAt: new Date(Date.now() - 89 * DAY_MS) })
      .where(eq(devices.id, id));
    expect((await asDevice(device)).status).toBe(200);

    // Credentials never used since their last use was recorded in D1 (or never used at all).
    const dormant = await enrolledDevice();
    await db
      .update(devices)
      .set({ createdAt: new Date(Date.now() - 200 * DAY_MS), lastUsedAt: new Date(Date.now() - 91 * DAY_MS) })
      .where(eq(devices.id, dormant.created.device.id));
    await expectDpopRefusal(await asDevice(dormant), "invalid_token");
    const unused = await enrolledDevice();
    await db
      .update(devices)
      .set({ createdAt: new Date(Date.now() - 91 * DAY_MS), lastUsedAt: null })
      .where(eq(devices.id, unused.created.device.id));
    await expectDpopRefusal(await asDevice(unused), "invalid_token");
  });

  it("counts 90 days from its precise last use, though D1 records use once a day", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
    const device = await enrolledDevice();
    const id = device.created.device.id;
    const firstUse = Date.now();
    expect((await asDevice(device)).status).toBe(200);
    expect((await storedDevice(id)).lastUsedAt?.getTime()).toBe(firstUse);

    // Ten minutes later: D1 keeps the day's first use, the list shows the latest.
    advance(10 * 60 * 1000);
    const laterUse = Date.now();
    expect((await asDevice(device)).status).toBe(200);
    expect((await storedDevice(id)).lastUsedAt?.getTime()).toBe(firstUse);
    const listed = await call(app, "/v1/me/devices", { headers: device.user.headers });
    const { items } = await listed.json<{ items: CreatedDevice["device"][] }>();
    expect(items[0]).toMatchObject({
      lastUsedAt: new Date(laterUse).toISOString(),
      expiresAt: new Date(laterUse + 90 * DAY_MS).toISOString(),
    });

    // 90 days after the first use but not after the latest: still working.
    advance(90 * DAY_MS - 5 * 60 * 1000);
    expect((await asDevice(device)).status).toBe(200);
    expect((await storedDevice(id)).lastUsedAt?.getTime()).toBe(Date.now());
    advance(90 * DAY_MS + 1000);
    await expectDpopRefusal(await asDevice(device), "invalid_token");
  });

  it("stops working when its user is deleted", async () => {
    const device = await enrolledDevice();
    await db.update(users).set({ deletedAt: new Date() }).where(eq(users.id, device.user.user.id));
    await expectDpopRefusal(await asDevice(device), "invalid_token");
  });
});

describe("DPoP proofs (RFC 9449 §4.3)", () => {
  const url = `${BASE}${UPLOADS}`;

  it("are single-use: a replayed proof is refused", async () => {
    const device = await enrolledDevice();
    const proof = await dpopProof(device.key, { method: "POST", url, credential: device.created.credential });
    expect((await asDevice(device, { proof })).status).toBe(200);
    await expectDpopRefusal(await asDevice(device, { proof }), "invalid_dpop_proof");
  });

  it("let exactly one of two concurrent requests with the same proof through", async () => {
    const device = await enrolledDevice();
    const proof = await dpopProof(device.key, { method: "POST", url, credential: device.created.credential });
    const results = await Promise.all([asDevice(device, { proof }), asDevice(device, { proof })]);
    expect(results.map((res) => res.status).sort()).toEqual([200, 401]);
  });

  it("are required", async () => {
    const device = await enrolledDevice();
    await expectDpopRefusal(await asDevice(device, { proof: null }), "invalid_dpop_proof");
    await expectDpopRefusal(await asDevice(device, { proof: "not.a.jwt" }), "invalid_dpop_proof");
  });

  it("must name the request's method and URL; query and fragment are ignored", async () => {
    const device = await enrolledDevice();
    const credential = device.created.credential;
    const refused = [
      await dpopProof(device.key, { method: "GET", url, credential }),
      await dpopProof(device.key, { method: "post", url, credential }),
      await dpopProof(device.key, { method: "POST", url: `${BASE}/v1/me/devices`, credential }),
      await dpopProof(device.key, { method: "POST", url: `https://localhost${UPLOADS}`, credential }),
      await dpopProof(device.key, { method: "POST", url: `http://evil.example${UPLOADS}`, credential }),
    ];
    for (const proof of refused) await expectDpopRefusal(await asDevice(device, { proof }), "invalid_dpop_proof");

    const normalized = await dpopProof(device.key, { method: "POST", url: `HTTP://LOCALHOST:80${UPLOADS}?x=1#f`, credential });
    expect((await asDevice(device, { proof: normalized, path: `${UPLOADS}?batch=7` })).status).toBe(200);
  });

  it("must be fresh: iat more than 60 s away from the server clock is refused", async () => {
    const device = await enrolledDevice();
    const credential = device.created.credential;
    const now = Math.floor(Date.now() / 1000);
    for (const iat of [now - 120, now + 120]) {
      const proof = await dpopProof(device.key, { method: "POST", url, credential, iat });
      await expectDpopRefusal(await asDevice(device, { proof }), "invalid_dpop_proof");
    }
    const slightlySkewed = await dpopProof(device.key, { method: "POST", url, credential, iat: now - 20 });
    expect((await asDevice(device, { proof: slightlySkewed })).status).toBe(200);
  });

  it("must be signed with the device's key", async () => {
    const device = await enrolledDevice();
    const credential = device.created.credential;
    const other = await generateDeviceKey();
    const otherKeysProof = await dpopProof(other, { method: "POST", url, credential });
    await expectDpopRefusal(await asDevice(device, { proof: otherKeysProof }), "invalid_dpop_proof");
    const forged = await dpopProof(device.key, { method: "POST", url, credential, signWith: other.privateKey });
    await expectDpopRefusal(await asDevice(device, { proof: forged }), "invalid_dpop_proof");
  });

  it("must bind the credential with ath, carry a jti, and use typ dpop+jwt with a public jwk", async () => {
    const device = await enrolledDevice();
    const credential = device.created.credential;
    const exported = (await crypto.subtle.exportKey("jwk", device.key.privateKey)) as JsonWebKey;
    const broken = [
      await dpopProof(device.key, { method: "POST", url }),
      await dpopProof(device.key, { method: "POST", url, credential: `${credential}x` }),
      await dpopProof(device.key, { method: "POST", url, credential, header: { typ: "JWT" } }),
      await dpopProof(device.key, {
        method: "POST",
        url,
        credential,
        header: { jwk: { ...device.key.publicJwk, d: exported.d } },
      }),
      await dpopProof(device.key, { method: "POST", url, credential, jti: null }),
      await dpopProof(device.key, { method: "POST", url, credential, claims: { htu: 7 } }),
    ];
    for (const proof of broken) await expectDpopRefusal(await asDevice(device, { proof }), "invalid_dpop_proof");
  });
});

describe("DELETE /v1/me/sessions (sign out everywhere)", () => {
  const signOutEverywhere = (user: SessionUser, query = "") =>
    call(app, `/v1/me/sessions${query}`, { method: "DELETE", headers: user.headers });

  it("revokes the device credentials too, by default, in one audited change", async () => {
    const device = await enrolledDevice();
    const other = await enrolledDevice(device.user);
    expect((await asDevice(device)).status).toBe(200);
    const res = await signOutEverywhere(device.user);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ revoked: 1, devicesRevoked: 2 });
    await expectDpopRefusal(await asDevice(device), "invalid_token");
    await expectDpopRefusal(await asDevice(other), "invalid_token");
    expect((await storedDevice(device.created.device.id)).revokedAt).toBeInstanceOf(Date);
    expect((await call(app, "/v1/me", { headers: device.user.headers })).status).toBe(401);
    const events = await db
      .select({ action: securityEvents.action })
      .from(securityEvents)
      .where(eq(securityEvents.resource, `user:${device.user.user.id}`));
    expect(events.map((event) => event.action)).toContain("credentials.revoke_all");
  });

  it("keeps device credentials working with ?keepDevices=true, and says so", async () => {
    const device = await enrolledDevice();
    const res = await signOutEverywhere(device.user, "?keepDevices=true");
    expect(await res.json()).toEqual({ revoked: 1, devicesRevoked: 0 });
    expect((await call(app, "/v1/me", { headers: device.user.headers })).status).toBe(401);
    expect((await asDevice(device)).status).toBe(200);
    expect((await storedDevice(device.created.device.id)).revokedAt).toBeNull();
  });

  it("leaves other users' devices alone and refuses a keepDevices that is not a boolean", async () => {
    const mine = await enrolledDevice();
    const theirs = await enrolledDevice();
    await expectProblem(await signOutEverywhere(mine.user, "?keepDevices=yes"), 400, "VALIDATION_FAILED");
    expect((await asDevice(mine)).status).toBe(200);
    expect((await signOutEverywhere(mine.user)).status).toBe(200);
    expect((await asDevice(theirs)).status).toBe(200);
  });
});

describe("the OpenAPI document", () => {
  it("describes the device routes", async () => {
    const doc = await (await call(app, "/openapi.json")).json<{ paths: Record<string, Record<string, unknown>> }>();
    expect(Object.keys(doc.paths["/v1/me/devices"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/v1/me/devices/{id}"] ?? {})).toEqual(["delete"]);
  });
});
