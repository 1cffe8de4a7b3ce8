import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { VAULT_QUOTA } from "../../durable-objects/health-store/vault";
import { registerVaultRoutes } from "../../src/vault/routes";
import { dpopHeaders, generateDeviceKey } from "./helpers/dpop";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * The vault routes: opaque blobs in the caller's own HealthStore, envelope-checked, size-limited,
 * audited. Blobs here are shaped like the SDK's v2 output; the server cannot tell them apart from
 * real ones, which is the point (the SDK's cryptography is tested in test/node/vault-sdk.test.ts).
 */
const app = createTestApp();
registerVaultRoutes(app);

function blob(ciphertext = "2IDK/HJO5ym8bHXUh1s77otj8QxMQp9pdMxGf3S+WvgD4WYgVlYweRwceyk2epiRY7w=") {
  return {
    version: 2,
    kdf: "PBKDF2",
    hash: "SHA-256",
    iterations: 600_000,
    salt: "q83vEjRWeJCrze8SNFZ4kA==",
    cipher: "AES-256-GCM",
    iv: "AQIDBAUGBwgJCgsM",
    ciphertext,
  };
}

function put(user: SessionUser, id: string, body: unknown): Promise<Response> {
  return call(app, `/v1/vault/${id}`, {
    method: "PUT",
    headers: { ...user.headers, "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("vault routes", () => {
  it("creates (201), replaces (200), reads back exactly, lists and deletes (204) a blob", async () => {
    const owner = await createSessionUser();
    const created = await put(owner, "mood_2026-01-15", blob());
    expect(created.status).toBe(201);
    const first = await created.json<{ id: string; version: number; size: number; created: boolean; updatedAt: string }>();
    expect(first).toMatchObject({ id: "mood_2026-01-15", version: 2, created: true, size: JSON.stringify(blob()).length });
    expect(Date.parse(first.updatedAt)).not.toBeNaN();

    const replaced = await put(owner, "mood_2026-01-15", blob("AAAAAAAAAAAAAAAAAAAAAA=="));
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ id: "mood_2026-01-15", created: false });

    const read = await call(app, "/v1/vault/mood_2026-01-15", { headers: owner.headers });
    expect(read.status).toBe(200);
    expect(await read.json()).toStrictEqual(blob("AAAAAAAAAAAAAAAAAAAAAA=="));

    const listed = await call(app, "/v1/vault", { headers: owner.headers });
    expect(await listed.json()).toMatchObject({ items: [{ id: "mood_2026-01-15", version: 2 }], nextCursor: null });

    const deleted = await call(app, "/v1/vault/mood_2026-01-15", { method: "DELETE", headers: owner.headers });
    expect(deleted.status).toBe(204);
    await expectProblem(await call(app, "/v1/vault/mood_2026-01-15", { headers: owner.headers }), 404, "NOT_FOUND");
    await expectProblem(
      await call(app, "/v1/vault/mood_2026-01-15", { method: "DELETE", headers: owner.headers }),
      404,
      "NOT_FOUND",
    );
  });

  it("pages the list by id with an opaque cursor", async () => {
    const owner = await createSessionUser();
    for (const id of ["c", "a", "e", "b", "d"]) expect((await put(owner, id, blob())).status).toBe(201);
    const seen: string[] = [];
    let path = "/v1/vault?limit=2";
    for (let page = 0; page < 5; page++) {
      const body = await (await call(app, path, { headers: owner.headers })).json<{
        items: { id: string }[];
        nextCursor: string | null;
      }>();
      seen.push(...body.items.map((item) => item.id));
      if (body.nextCursor === null) break;
      path = `/v1/vault?limit=2&cursor=${body.nextCursor}`;
    }
    expect(seen).toEqual(["a", "b", "c", "d", "e"]);
    await expectProblem(await call(app, "/v1/vault?cursor=garbage", { headers: owner.headers }), 400, "VALIDATION_FAILED");
  });

  it("refuses bad ids and bodies that are not a blob envelope", async () => {
    const owner = await createSessionUser();
    for (const id of ["has.dot", "x".repeat(65), "sp%20ace"]) {
      await expectProblem(await put(owner, id, blob()), 400, "VALIDATION_FAILED");
    }
    for (const body of [
      { ...blob(), version: "2" },
      { ...blob(), version: 1.5 },
      { kdf: "PBKDF2" },
      { ...blob(), salt: { nested: 1 } },
      [1, 2],
    ]) {
      await expectProblem(await put(owner, "note", body), 400, "VALIDATION_FAILED");
    }
    await expectProblem(await put(owner, "note", "{not json"), 400, "MALFORMED_JSON");
    const listed = await call(app, "/v1/vault", { headers: owner.headers });
    expect(await listed.json()).toEqual({ items: [], nextCursor: null });
  });

  it("accepts a blob of exactly 64 KiB and refuses one byte more (413)", async () => {
    const owner = await createSessionUser();
    const base = JSON.stringify(blob(""));
    const atLimit = JSON.stringify(blob("A".repeat(64 * 1024 - base.length)));
    expect(atLimit.length).toBe(64 * 1024);
    expect((await put(owner, "big", atLimit)).status).toBe(201);
    const over = JSON.stringify(blob("A".repeat(64 * 1024 - base.length + 1)));
    await expectProblem(await put(owner, "bigger", over), 413, "PAYLOAD_TOO_LARGE");
    const listed = await (await call(app, "/v1/vault", { headers: owner.headers })).json<{
      items: { id: string; size: number }[];
    }>();
    expect(listed.items).toEqual([expect.objectContaining({ id: "big", size: 64 * 1024 })]);
  });

  it("describes its routes in the OpenAPI document", async () => {
    const doc = await (await call(app, "/openapi.json")).json<{ paths: Record<string, Record<string, unknown>> }>();
    expect(Object.keys(doc.paths["/v1/vault/{id}"] ?? {}).sort()).toEqual(["delete", "get", "put"]);
    expect(Object.keys(doc.paths["/v1/vault"] ?? {})).toEqual(["get"]);
  });

  it("refuses device credentials, which carry only uploads:write (403)", async () => {
    const owner = await createSessionUser();
    const key = await generateDeviceKey();
    const created = await call(app, "/v1/me/devices", {
      method: "POST",
      headers: { ...owner.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Phone", publicJwk: key.publicJwk }),
    });
    const { credential } = await created.json<{ credential: string }>();
    const headers = await dpopHeaders(key, credential, "GET", "http://localhost/v1/vault");
    await expectProblem(
      await call(app, "/v1/vault", { headers: { ...headers, "CF-Connecting-IP": "10.9.9.8" } }),
      403,
      "FORBIDDEN",
    );
  });

  it("keeps each user's vault apart: the same id names two different blobs", async () => {
    const alice = await createSessionUser();
    const bob = await createSessionUser();
    expect((await put(alice, "shared-name", blob("YWxpY2U="))).status).toBe(201);
    expect((await put(bob, "shared-name", blob("Ym9i"))).status).toBe(201);
    expect(await (await call(app, "/v1/vault/shared-name", { headers: alice.headers })).json()).toMatchObject({
      ciphertext: "YWxpY2U=",
    });
    expect(await (await call(app, "/v1/vault/shared-name", { headers: bob.headers })).json()).toMatchObject({
      ciphertext: "Ym9i",
    });
    expect((await call(app, "/v1/vault/shared-name", { method: "DELETE", headers: bob.headers })).status).toBe(204);
    expect((await call(app, "/v1/vault/shared-name", { headers: alice.headers })).status).toBe(200);
  });

  it("audits every write, read, list and delete in the owner's chain, and no miss", async () => {
    const owner = await createSessionUser();
    await put(owner, "n1", blob());
    await call(app, "/v1/vault/n1", { headers: owner.headers });
    await call(app, "/v1/vault", { headers: owner.headers });
    await call(app, "/v1/vault/n1", { method: "DELETE", headers: owner.headers });
    await call(app, "/v1/vault/unknown", { headers: owner.headers });

    const store = healthStoreFor(env.HEALTH_STORE, owner.user.id);
    const log = await store.accessLog({ limit: 10 });
    expect(log.items.map((event) => [event.action, event.resource, event.actor, event.subject, event.result])).toEqual([
      ["vault.delete", "vault:n1", owner.user.id, owner.user.id, "success"],
      ["vault.read", "vault", owner.user.id, owner.user.id, "success"],
      ["vault.read", "vault:n1", owner.user.id, owner.user.id, "success"],
      ["vault.write", "vault:n1", owner.user.id, owner.user.id, "success"],
    ]);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, count: 4 });
  });
});

/**
 * The per-user quota, at its real numbers. Reaching them through HTTP would take hundreds of
 * requests, so most of the vault is written straight into the user's store (as earlier PUTs would
 * have left it); the writes that cross the boundary go through the API.
 */
describe("vault quota", () => {
  /** Adds `count` blobs of exactly `bytes` bytes of JSON each to the user's vault. */
  async function fill(owner: SessionUser, prefix: string, count: number, bytes: number): Promise<void> {
    if (count === 0) return;
    const head = '{"version":2,"c":"';
    await runInDurableObject(healthStoreFor(env.HEALTH_STORE, owner.user.id).stub, (_store, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO vault_blobs (id, version, body, size, created_at, updated_at)
         SELECT ? || i, 2, ? || substr(hex(zeroblob(?)), 1, ?) || '"}', ?, 0, 0 FROM n`,
        count,
        prefix,
        head,
        bytes,
        bytes - head.length - 2,
        bytes,
      );
    });
  }

  async function usage(owner: SessionUser): Promise<{ blobs: number; bytes: number }> {
    return runInDurableObject(healthStoreFor(env.HEALTH_STORE, owner.user.id).stub, (_store, state) =>
      state.storage.sql
        .exec<{ blobs: number; bytes: number }>("SELECT COUNT(*) AS blobs, COALESCE(SUM(size), 0) AS bytes FROM vault_blobs")
        .one(),
    );
  }

  it(`holds ${VAULT_QUOTA.maxBlobs} blobs; one more is 409, replacing one or freeing a place still works`, async () => {
    const owner = await createSessionUser();
    await fill(owner, "old-", VAULT_QUOTA.maxBlobs - 1, 40);
    expect((await put(owner, "last", blob())).status).toBe(201);
    expect((await usage(owner)).blobs).toBe(VAULT_QUOTA.maxBlobs);

    const refused = await put(owner, "one-more", blob());
    await expectProblem(refused.clone(), 409, "CONFLICT");
    expect((await refused.json<{ detail: string }>()).detail).toContain(`maximum of ${VAULT_QUOTA.maxBlobs} blobs`);
    expect((await call(app, "/v1/vault/one-more", { headers: owner.headers })).status).toBe(404);

    expect((await put(owner, "last", blob("AAAAAAAAAAAAAAAAAAAAAA=="))).status).toBe(200);
    expect((await call(app, "/v1/vault/old-1", { method: "DELETE", headers: owner.headers })).status).toBe(204);
    expect((await put(owner, "one-more", blob())).status).toBe(201);
    expect((await usage(owner)).blobs).toBe(VAULT_QUOTA.maxBlobs);
  });

  it(`holds ${VAULT_QUOTA.maxTotalBytes} bytes in all; past that is 413, counting a replacement's size difference`, async () => {
    const owner = await createSessionUser();
    const mine = JSON.stringify(blob());
    const rest = VAULT_QUOTA.maxTotalBytes - mine.length;
    const large = 60_000;
    const remainder = rest % large;
    await fill(owner, "big-", Math.floor(rest / large), large);
    await fill(owner, "rest-", 1, remainder);
    expect(await usage(owner)).toEqual({ blobs: Math.floor(rest / large) + 1, bytes: rest });

    // Exactly at the quota.
    expect((await put(owner, "mine", blob())).status).toBe(201);
    expect((await usage(owner)).bytes).toBe(VAULT_QUOTA.maxTotalBytes);

    const refused = await put(owner, "tiny", { version: 2 });
    await expectProblem(refused.clone(), 413, "PAYLOAD_TOO_LARGE");
    expect((await refused.json<{ detail: string }>()).detail).toContain(`quota of ${VAULT_QUOTA.maxTotalBytes} bytes`);

    // Growing "mine" by one byte is over; the same size or smaller is fine.
    const ciphertext = blob().ciphertext;
    await expectProblem(await put(owner, "mine", blob(`${ciphertext}A`)), 413, "PAYLOAD_TOO_LARGE");
    expect((await put(owner, "mine", blob(ciphertext.replace("2", "3")))).status).toBe(200);
    expect((await put(owner, "mine", blob(ciphertext.slice(4)))).status).toBe(200);
    expect((await usage(owner)).bytes).toBe(VAULT_QUOTA.maxTotalBytes - 4);
    // The four freed bytes hold a new blob of up to four bytes only: the smallest envelope is bigger.
    await expectProblem(await put(owner, "tiny", { version: 2 }), 413, "PAYLOAD_TOO_LARGE");
    expect((await call(app, "/v1/vault/rest-1", { method: "DELETE", headers: owner.headers })).status).toBe(204);
    expect((await put(owner, "tiny", { version: 2 })).status).toBe(201);
  });

  it("applies to each user separately", async () => {
    const full = await createSessionUser();
    await fill(full, "old-", VAULT_QUOTA.maxBlobs, 40);
    await expectProblem(await put(full, "new", blob()), 409, "CONFLICT");
    const other = await createSessionUser();
    expect((await put(other, "new", blob())).status).toBe(201);
  });
});
