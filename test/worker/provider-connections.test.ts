import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { AuditContext } from "../../src/audit/event";
import { verifySecurityChain } from "../../src/audit/verify-security-chain";
import { getDb } from "../../src/db/client";
import { idPattern } from "../../src/db/ids";
import { connections, securityEvents, users } from "../../src/db/schema";
import { DomainError } from "../../src/errors/domain-error";
import {
  type ConnectionsContext,
  connectionTokens,
  findConnection,
  listConnections,
  markConnectionStatus,
  rotateConnectionTokens,
  saveConnection,
  storeRefreshedTokens,
} from "../../src/providers/connections";
import type { ProviderTokens } from "../../src/providers/driver";
import { importTokenKeys, sealedKeyId, TokenDecryptionError } from "../../src/providers/tokens";
import { createUser } from "../../src/users/users";

const db = getDb(env.DB);
const system: AuditContext = { actor: "test", role: "system", reason: null, requestId: "req-con", ip: null };

function keyMaterial(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}
const V1 = `v1:${keyMaterial()}`;
const V2 = `v2:${keyMaterial()}`;
const ctx: ConnectionsContext = { db, keyring: await importTokenKeys([V1]) };

async function newUser(): Promise<string> {
  const user = await createUser({ db }, { username: `con-${crypto.randomUUID()}`, displayName: "Connector" }, system);
  return user.id;
}

function tokens(label: string, overrides: Partial<ProviderTokens> = {}): ProviderTokens {
  return {
    accessToken: `access-${label}-${crypto.randomUUID()}`,
    refreshToken: `refresh-${label}-${crypto.randomUUID()}`,
    accessTokenExpiresAt: new Date(Date.now() + 3_600_000),
    scopes: ["daily", "heartrate"],
    ...overrides,
  };
}

async function storedRow(id: string) {
  const [row] = await db.select().from(connections).where(eq(connections.id, id));
  if (!row) throw new Error(`no row ${id}`);
  return row;
}

describe("connections table", () => {
  it("exists with the refresh-scan index and the live-row uniqueness rules", async () => {
    const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'connections'").all<{
      name: string;
    }>();
    expect(results.map((row) => row.name)).toEqual(
      expect.arrayContaining([
        "connections",
        "connections_status_expiry_idx",
        "connections_user_provider_live_unique",
        "connections_provider_account_live_unique",
      ]),
    );
  });

  it("refuses a status outside the closed list", async () => {
    const userId = await newUser();
    await expect(
      env.DB.prepare(
        "INSERT INTO connections (id, user_id, provider, status, scopes, created_at, updated_at) VALUES (?, ?, 'oura', 'paused', '[]', 0, 0)",
      )
        .bind(`con_${crypto.randomUUID()}`, userId)
        .run(),
    ).rejects.toThrow(/CHECK constraint failed/);
  });
});

describe("saveConnection", () => {
  it("stores a new connection with its tokens sealed to the row, and a connection.create event", async () => {
    const userId = await newUser();
    const issued = tokens("a");
    const saved = await saveConnection(ctx, { userId, provider: "oura", providerUserId: "oura-1", tokens: issued }, system);

    expect(saved.id).toMatch(idPattern("con"));
    expect(saved).toMatchObject({ provider: "oura", providerUserId: "oura-1", status: "active", scopes: ["daily", "heartrate"] });
    expect(saved.accessExpiresAt?.getTime()).toBe(issued.accessTokenExpiresAt?.getTime());
    expect(JSON.stringify(saved)).not.toMatch(/access-a|refresh-a|Ciphertext/);

    const row = await storedRow(saved.id);
    expect(sealedKeyId(row.accessTokenCiphertext ?? "")).toBe("v1");
    expect(row.accessTokenCiphertext).not.toContain(issued.accessToken);
    expect(row.refreshTokenCiphertext).not.toContain(issued.refreshToken ?? "");
    expect(await connectionTokens(ctx.keyring, row)).toEqual({
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
    });

    const events = await db
      .select()
      .from(securityEvents)
      .where(eq(securityEvents.resource, `connection:${saved.id}`));
    expect(events).toMatchObject([{ action: "connection.create", subject: userId, result: "success", requestId: "req-con" }]);
    expect((await verifySecurityChain(db)).ok).toBe(true);
  });

  it("replaces the tokens of the user's live connection on reconnect, keeping its id", async () => {
    const userId = await newUser();
    const first = await saveConnection(ctx, { userId, provider: "whoop", providerUserId: "w-1", tokens: tokens("1") }, system);
    await markConnectionStatus(
      ctx,
      userId,
      "whoop",
      { status: "reauth_required", error: { code: "INVALID_GRANT", message: "WHOOP refused the refresh token." } },
      system,
    );

    const fresh = tokens("2", { refreshToken: null, scopes: null, accessTokenExpiresAt: null });
    const second = await saveConnection(ctx, { userId, provider: "whoop", providerUserId: "w-1", tokens: fresh }, system);
    expect(second.id).toBe(first.id);
    // No scopes reported: the requested ones are recorded.
    expect(second).toMatchObject({ status: "active", lastErrorCode: null, lastErrorMessage: null, accessExpiresAt: null });
    expect(second.scopes).toContain("read:sleep");
    expect(await connectionTokens(ctx.keyring, await storedRow(second.id))).toEqual({
      accessToken: fresh.accessToken,
      refreshToken: null,
    });
    expect(await db.select().from(connections).where(eq(connections.userId, userId))).toHaveLength(1);
  });

  it("refuses a provider account already connected to another user, with nothing written", async () => {
    const ada = await newUser();
    const bob = await newUser();
    const account = `acct-${crypto.randomUUID()}`;
    await saveConnection(ctx, { userId: ada, provider: "strava", providerUserId: account, tokens: tokens("ada") }, system);

    const refused = await saveConnection(
      ctx,
      { userId: bob, provider: "strava", providerUserId: account, tokens: tokens("bob") },
      system,
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe("CONFLICT");
    expect(await findConnection(db, bob, "strava")).toBeNull();
    expect(await db.select().from(securityEvents).where(eq(securityEvents.subject, bob))).toHaveLength(1); // user.create only
  });
});

describe("reading connections", () => {
  it("finds and lists only the user's own live connections, without tokens", async () => {
    const ada = await newUser();
    const bob = await newUser();
    await saveConnection(ctx, { userId: ada, provider: "oura", providerUserId: null, tokens: tokens("o") }, system);
    await saveConnection(ctx, { userId: ada, provider: "dexcom", providerUserId: null, tokens: tokens("d") }, system);
    await saveConnection(ctx, { userId: bob, provider: "oura", providerUserId: null, tokens: tokens("b") }, system);
    await markConnectionStatus(ctx, ada, "dexcom", { status: "revoked" }, system);

    const listed = await listConnections(db, ada);
    expect(listed.map((connection) => connection.provider)).toEqual(["oura"]);
    expect(Object.keys(listed[0] ?? {})).not.toEqual(expect.arrayContaining(["accessTokenCiphertext"]));
    expect((await findConnection(db, ada, "oura"))?.userId).toBe(ada);
    expect(await findConnection(db, ada, "dexcom")).toBeNull();
    expect(await findConnection(db, ada, "polar")).toBeNull();
  });

  it("refuses tokens copied from another user's row", async () => {
    const ada = await newUser();
    const bob = await newUser();
    const adaConnection = await saveConnection(
      ctx,
      { userId: ada, provider: "polar", providerUserId: null, tokens: tokens("a") },
      system,
    );
    const bobConnection = await saveConnection(
      ctx,
      { userId: bob, provider: "polar", providerUserId: null, tokens: tokens("b") },
      system,
    );
    const adaRow = await storedRow(adaConnection.id);
    await db
      .update(connections)
      .set({ accessTokenCiphertext: adaRow.accessTokenCiphertext })
      .where(eq(connections.id, bobConnection.id));

    await expect(connectionTokens(ctx.keyring, await storedRow(bobConnection.id))).rejects.toBeInstanceOf(TokenDecryptionError);
  });
});

describe("markConnectionStatus", () => {
  it("records an error, and on revoke deletes the tokens and frees the provider account", async () => {
    const ada = await newUser();
    const bob = await newUser();
    const account = `acct-${crypto.randomUUID()}`;
    const saved = await saveConnection(
      ctx,
      { userId: ada, provider: "withings", providerUserId: account, tokens: tokens("a") },
      system,
    );

    const failed = await markConnectionStatus(
      ctx,
      ada,
      "withings",
      { status: "sync_failed", error: { code: "PROVIDER_UNAVAILABLE", message: "Withings answered 503 three times." } },
      system,
    );
    expect(failed).toMatchObject({ status: "sync_failed", lastErrorCode: "PROVIDER_UNAVAILABLE" });

    const revoked = await markConnectionStatus(ctx, ada, "withings", { status: "revoked" }, system);
    expect(revoked).toMatchObject({ id: saved.id, status: "revoked", lastErrorCode: null });
    const row = await storedRow(saved.id);
    expect(row).toMatchObject({ accessTokenCiphertext: null, refreshTokenCiphertext: null, syncCheckpoint: null });
    await expect(connectionTokens(ctx.keyring, row)).rejects.toMatchObject({ code: "CONFLICT" });

    const actions = await db
      .select({ action: securityEvents.action })
      .from(securityEvents)
      .where(eq(securityEvents.resource, `connection:${saved.id}`));
    expect(actions.map((event) => event.action)).toEqual(["connection.create", "connection.status_change", "connection.revoke"]);

    // The account is free again: for another user, and for a fresh connection of the same user.
    const taken = await saveConnection(
      ctx,
      { userId: bob, provider: "withings", providerUserId: account, tokens: tokens("b") },
      system,
    );
    expect(taken.id).not.toBe(saved.id);
    await markConnectionStatus(ctx, bob, "withings", { status: "revoked" }, system);
    const again = await saveConnection(
      ctx,
      { userId: ada, provider: "withings", providerUserId: account, tokens: tokens("c") },
      system,
    );
    expect(again.id).not.toBe(saved.id);
  });

  it("answers NOT_FOUND for a provider the user has not connected, or another user's connection", async () => {
    const ada = await newUser();
    const bob = await newUser();
    await saveConnection(ctx, { userId: bob, provider: "oura", providerUserId: null, tokens: tokens("b") }, system);
    await expect(markConnectionStatus(ctx, ada, "oura", { status: "revoked" }, system)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect((await findConnection(db, bob, "oura"))?.status).toBe("active");
  });
});

describe("storeRefreshedTokens", () => {
  it("replaces the access token and keeps a refresh token the provider did not rotate", async () => {
    const userId = await newUser();
    const issued = tokens("a");
    const saved = await saveConnection(ctx, { userId, provider: "dexcom", providerUserId: null, tokens: issued }, system);
    const refreshed = tokens("r", { refreshToken: null, scopes: null });
    await storeRefreshedTokens(ctx, await storedRow(saved.id), refreshed);

    const row = await storedRow(saved.id);
    expect(await connectionTokens(ctx.keyring, row)).toEqual({
      accessToken: refreshed.accessToken,
      refreshToken: issued.refreshToken,
    });
    expect(row.accessExpiresAt?.getTime()).toBe(refreshed.accessTokenExpiresAt?.getTime());
    expect(row.scopes).toEqual(["daily", "heartrate"]);
  });
});

describe("rotateConnectionTokens", () => {
  it("re-seals every stored token under the newest key, and a second run changes nothing", async () => {
    const userId = await newUser();
    const issued = tokens("rot");
    const saved = await saveConnection(ctx, { userId, provider: "sandbox", providerUserId: null, tokens: issued }, system);
    const rotated: ConnectionsContext = { db, keyring: await importTokenKeys([V2, V1]) };

    const first = await rotateConnectionTokens(rotated);
    expect(first.rewritten).toBeGreaterThanOrEqual(1);
    // Other tests in this file leave rows it cannot open on purpose; this one is not among them.
    expect(first.unreadable).not.toContain(saved.id);
    const row = await storedRow(saved.id);
    expect(sealedKeyId(row.accessTokenCiphertext ?? "")).toBe("v2");
    expect(sealedKeyId(row.refreshTokenCiphertext ?? "")).toBe("v2");
    // Readable with the new key alone: the old one can now be dropped.
    const newOnly = await importTokenKeys([V2]);
    expect(await connectionTokens(newOnly, row)).toEqual({ accessToken: issued.accessToken, refreshToken: issued.refreshToken });

    expect((await rotateConnectionTokens(rotated)).rewritten).toBe(0);
  });

  it("reports rows it cannot open instead of stopping", async () => {
    const userId = await newUser();
    const foreign: ConnectionsContext = { db, keyring: await importTokenKeys([`v9:${keyMaterial()}`]) };
    const lost = await saveConnection(foreign, { userId, provider: "terra", providerUserId: null, tokens: tokens("x") }, system);

    const result = await rotateConnectionTokens({ db, keyring: await importTokenKeys([V2, V1]) });
    expect(result.unreadable).toContain(lost.id);
    expect(sealedKeyId((await storedRow(lost.id)).accessTokenCiphertext ?? "")).toBe("v9");
  });
});

describe("user deletion", () => {
  it("deletes the user's connections with the user", async () => {
    const userId = await newUser();
    const saved = await saveConnection(ctx, { userId, provider: "oura", providerUserId: null, tokens: tokens("del") }, system);
    await db.delete(users).where(eq(users.id, userId));
    expect(
      await db
        .select()
        .from(connections)
        .where(and(eq(connections.id, saved.id))),
    ).toEqual([]);
  });
});
