/**
 * Provider connections in D1 (DESIGN §7): the data access the connection routes, the callback,
 * the refresh cron and the sync jobs build on. Tokens go in and come out only through
 * ./tokens.ts, sealed to the row; every query names the owning user (STYLE "Data"); each change
 * of who is connected is written with its security event in one batch (src/audit).
 */
import { and, desc, eq, ne, sql } from "drizzle-orm";
import type { AuditContext } from "../audit/event";
import { appendSecurityEvent } from "../audit/security-events";
import type { Db } from "../db/client";
import { isConstraintViolation } from "../db/errors";
import { newId } from "../db/ids";
import { type ConnectionRow, type ConnectionStatus, connections } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import type { ProviderTokens } from "./driver";
import { type ProviderName, providerFacts } from "./registry";
import {
  decryptToken,
  encryptToken,
  reencryptConnection,
  type TokenBinding,
  TokenDecryptionError,
  type TokenKeyring,
} from "./tokens";

export interface ConnectionsContext {
  db: Db;
  keyring: TokenKeyring;
}

/** A connection as callers may show it: never a token, sealed or not. */
export interface ConnectionSummary {
  id: string;
  provider: ProviderName;
  providerUserId: string | null;
  status: ConnectionStatus;
  scopes: string[];
  accessExpiresAt: Date | null;
  lastSyncAt: Date | null;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function summarizeConnection(row: ConnectionRow): ConnectionSummary {
  return {
    id: row.id,
    provider: row.provider,
    providerUserId: row.providerUserId,
    status: row.status,
    scopes: row.scopes,
    accessExpiresAt: row.accessExpiresAt,
    lastSyncAt: row.lastSyncAt,
    lastErrorCode: row.lastErrorCode,
    lastErrorMessage: row.lastErrorMessage,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const live = ne(connections.status, "revoked");

/** The user's live (not revoked) connection to a provider, or null. */
export async function findConnection(db: Db, userId: string, provider: ProviderName): Promise<ConnectionRow | null> {
  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.userId, userId), eq(connections.provider, provider), live))
    .limit(1);
  return row ?? null;
}

/** The user's live connections, newest first (one per provider, so never more than a handful). */
export async function listConnections(db: Db, userId: string): Promise<ConnectionSummary[]> {
  const rows = await db
    .select()
    .from(connections)
    .where(and(eq(connections.userId, userId), live))
    .orderBy(desc(connections.createdAt), desc(connections.id));
  return rows.map(summarizeConnection);
}

export interface SaveConnectionInput {
  userId: string;
  provider: ProviderName;
  providerUserId: string | null;
  /** IANA zone from the provider's profile, when it has one. */
  timeZone?: string | null;
  tokens: ProviderTokens;
}

/**
 * Stores the outcome of a code exchange: a new connection, or fresh tokens (and the provider
 * account the user just consented with) on the user's existing one, e.g. reconnecting after
 * `reauth_required`. CONFLICT when that provider account is connected to another Pulse user.
 */
export async function saveConnection(
  ctx: ConnectionsContext,
  input: SaveConnectionInput,
  audit: AuditContext,
): Promise<ConnectionSummary> {
  const existing = await findConnection(ctx.db, input.userId, input.provider);
  const id = existing?.id ?? newId("con");
  const sealed = await sealTokens(
    ctx.keyring,
    { userId: input.userId, provider: input.provider, connectionId: id },
    input.tokens,
  );
  const values = {
    providerUserId: input.providerUserId,
    timeZone: input.timeZone ?? null,
    status: "active" as const,
    scopes: input.tokens.scopes ?? [...(providerFacts(input.provider).oauth?.scopes ?? [])],
    ...sealed,
    accessExpiresAt: input.tokens.accessTokenExpiresAt,
    lastErrorCode: null,
    lastErrorMessage: null,
  };
  const write = existing
    ? ctx.db
        .update(connections)
        .set({ ...values, updatedAt: new Date() })
        .where(and(eq(connections.id, id), eq(connections.userId, input.userId), live))
        .returning()
    : ctx.db
        .insert(connections)
        .values({ id, userId: input.userId, provider: input.provider, ...values })
        .returning();
  try {
    const { results } = await appendSecurityEvent(
      ctx.db,
      {
        ...audit,
        action: existing ? "connection.reconnect" : "connection.create",
        resource: `connection:${id}`,
        subject: input.userId,
        result: "success",
      },
      [write],
    );
    const [row] = (results[0] ?? []) as ConnectionRow[];
    if (!row) throw new DomainError("CONFLICT", "The connection changed meanwhile; connect again.");
    return summarizeConnection(row);
  } catch (error) {
    if (isConstraintViolation(error, /connections\.provider_user_id/)) {
      throw new DomainError("CONFLICT", "This provider account is already connected to another Pulse account.", { cause: error });
    }
    if (isConstraintViolation(error, /connections\.user_id/)) {
      throw new DomainError("CONFLICT", "This provider was connected meanwhile; connect again.", { cause: error });
    }
    throw error;
  }
}

/** The plaintext tokens of a live connection, for a driver call; never for a response. */
export async function connectionTokens(
  keyring: TokenKeyring,
  row: ConnectionRow,
): Promise<{ accessToken: string; refreshToken: string | null }> {
  if (row.status === "revoked" || row.accessTokenCiphertext === null) {
    throw new DomainError("CONFLICT", "This connection holds no tokens; connect the provider again.");
  }
  const binding = { userId: row.userId, provider: row.provider, connectionId: row.id };
  return {
    accessToken: await decryptToken(keyring, { ...binding, kind: "access" }, row.accessTokenCiphertext),
    refreshToken:
      row.refreshTokenCiphertext === null
        ? null
        : await decryptToken(keyring, { ...binding, kind: "refresh" }, row.refreshTokenCiphertext),
  };
}

/** Stores refreshed tokens (the refresh job); a refresh token the provider did not rotate is kept. */
export async function storeRefreshedTokens(ctx: ConnectionsContext, row: ConnectionRow, tokens: ProviderTokens): Promise<void> {
  const binding = { userId: row.userId, provider: row.provider, connectionId: row.id };
  const sealed = await sealTokens(ctx.keyring, binding, tokens);
  await ctx.db
    .update(connections)
    .set({
      accessTokenCiphertext: sealed.accessTokenCiphertext,
      refreshTokenCiphertext: sealed.refreshTokenCiphertext ?? row.refreshTokenCiphertext,
      accessExpiresAt: tokens.accessTokenExpiresAt,
      ...(tokens.scopes ? { scopes: tokens.scopes } : {}),
      status: "active",
      lastErrorCode: null,
      lastErrorMessage: null,
      updatedAt: new Date(),
    })
    .where(and(eq(connections.id, row.id), eq(connections.userId, row.userId), live));
}

export interface StatusChange {
  status: ConnectionStatus;
  /** Why, for `reauth_required` and `sync_failed`: a stable code and a sentence Pulse wrote. */
  error?: { code: string; message: string };
}

/**
 * Moves the user's connection to a provider to another status. `revoked` also deletes its tokens
 * (DESIGN §7 "delete tokens") and frees the provider account for a new connection. NOT_FOUND when
 * the user has no live connection to that provider.
 */
export async function markConnectionStatus(
  ctx: ConnectionsContext,
  userId: string,
  provider: ProviderName,
  change: StatusChange,
  audit: AuditContext,
): Promise<ConnectionSummary> {
  const row = await findConnection(ctx.db, userId, provider);
  if (!row) throw new DomainError("NOT_FOUND", "No such connection.");
  const write = ctx.db
    .update(connections)
    .set({
      status: change.status,
      lastErrorCode: change.error?.code ?? null,
      lastErrorMessage: change.error?.message ?? null,
      ...(change.status === "revoked" ? { accessTokenCiphertext: null, refreshTokenCiphertext: null, syncCheckpoint: null } : {}),
      updatedAt: new Date(),
    })
    .where(and(eq(connections.id, row.id), eq(connections.userId, userId), live))
    .returning();
  const { results } = await appendSecurityEvent(
    ctx.db,
    {
      ...audit,
      action: change.status === "revoked" ? "connection.revoke" : "connection.status_change",
      resource: `connection:${row.id}`,
      subject: userId,
      result: "success",
    },
    [write],
  );
  const [updated] = (results[0] ?? []) as ConnectionRow[];
  if (!updated) throw new DomainError("NOT_FOUND", "No such connection.");
  return summarizeConnection(updated);
}

/**
 * Re-seals every stored token under the newest key (key rotation inside the Worker; the operator
 * command scripts/rotate-token-keys.mjs runs the same `reencryptConnection` over wrangler). Each
 * row is rewritten only if its ciphertexts are still the ones read, so a token refreshed
 * meanwhile is never overwritten with an older one.
 */
export async function rotateConnectionTokens(
  ctx: ConnectionsContext,
): Promise<{ scanned: number; rewritten: number; unreadable: string[] }> {
  const rows = await ctx.db
    .select({
      id: connections.id,
      userId: connections.userId,
      provider: connections.provider,
      accessTokenCiphertext: connections.accessTokenCiphertext,
      refreshTokenCiphertext: connections.refreshTokenCiphertext,
    })
    .from(connections)
    .where(sql`${connections.accessTokenCiphertext} IS NOT NULL OR ${connections.refreshTokenCiphertext} IS NOT NULL`);
  let rewritten = 0;
  const unreadable: string[] = [];
  for (const row of rows) {
    let next: Awaited<ReturnType<typeof reencryptConnection>>;
    try {
      next = await reencryptConnection(ctx.keyring, row);
    } catch (error) {
      // One row under a dropped key must not stop the others; the caller reports the ids.
      if (!(error instanceof TokenDecryptionError)) throw error;
      unreadable.push(row.id);
      continue;
    }
    if (!next) continue;
    const [changed] = await ctx.db
      .update(connections)
      .set(next)
      .where(
        and(
          eq(connections.id, row.id),
          sql`${connections.accessTokenCiphertext} IS ${row.accessTokenCiphertext}`,
          sql`${connections.refreshTokenCiphertext} IS ${row.refreshTokenCiphertext}`,
        ),
      )
      .returning({ id: connections.id });
    if (changed) rewritten++;
  }
  return { scanned: rows.length, rewritten, unreadable };
}

async function sealTokens(
  keyring: TokenKeyring,
  binding: Omit<TokenBinding, "kind">,
  tokens: ProviderTokens,
): Promise<{ accessTokenCiphertext: string; refreshTokenCiphertext: string | null }> {
  return {
    accessTokenCiphertext: await encryptToken(keyring, { ...binding, kind: "access" }, tokens.accessToken),
    refreshTokenCiphertext:
      tokens.refreshToken === null ? null : await encryptToken(keyring, { ...binding, kind: "refresh" }, tokens.refreshToken),
  };
}

/**
 * The live connections of these provider accounts, in one query, keyed by `accountKey`: whom the
 * webhooks naming them are about. At most one per account exists (the live-row uniqueness rule on
 * `(provider, provider_user_id)`). The pairs travel as one JSON parameter, so the query stays under
 * D1's 100 bound parameters however many.
 */
export async function findLiveConnectionsByProviderUsers(
  db: Db,
  accounts: readonly { provider: ProviderName; providerUserId: string }[],
): Promise<Map<string, ConnectionRow>> {
  const found = new Map<string, ConnectionRow>();
  if (accounts.length === 0) return found;
  const pairs = JSON.stringify(accounts.map((account) => [account.provider, account.providerUserId]));
  const rows = await db
    .select()
    .from(connections)
    .where(
      and(
        sql`(${connections.provider}, ${connections.providerUserId}) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(${pairs}))`,
        live,
      ),
    );
  for (const row of rows) {
    if (row.providerUserId !== null) found.set(accountKey(row.provider, row.providerUserId), row);
  }
  return found;
}

/** The key of one provider account in `findLiveConnectionsByProviderUsers`'s answer. */
export function accountKey(provider: ProviderName, providerUserId: string): string {
  return `${provider}\u0000${providerUserId}`;
}
