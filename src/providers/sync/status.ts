/**
 * The connection row as the sync jobs change it: loading it by id and owner, recording the last
 * attempt's error, completing a sync, and the two failure states a person sees in
 * `GET /v1/connections` — `reauth_required` (reconnect the provider) and `sync_failed` (Pulse gave
 * up after every retry; the next sync or refresh that succeeds makes it `active` again). Status
 * changes are security events, written in one batch with the row (src/audit).
 */
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { AuditContext } from "../../audit/event";
import { appendSecurityEvent } from "../../audit/security-events";
import type { Db } from "../../db/client";
import { type ConnectionRow, connections } from "../../db/schema";
import { checkpointPath } from "./checkpoint";
import type { RefreshLease } from "./lease";

/** The connection by id and owner: a message naming another user's connection finds nothing. */
export async function loadConnection(db: Db, connectionId: string, userId: string): Promise<ConnectionRow | null> {
  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.id, connectionId), eq(connections.userId, userId)))
    .limit(1);
  return row ?? null;
}

export interface ConnectionError {
  /** A stable code (`RATE_LIMITED`, `PROVIDER_FAILED`, `REFRESH_REJECTED`, …). */
  code: string;
  /** A sentence Pulse wrote; never the provider's answer, a token or a health value. */
  message: string;
}

/** Records why the last attempt failed without changing the status (retries are still coming). */
export async function recordAttemptError(db: Db, row: ConnectionRow, error: ConnectionError): Promise<void> {
  await db
    .update(connections)
    .set({ lastErrorCode: error.code, lastErrorMessage: error.message.slice(0, 500), updatedAt: new Date() })
    .where(and(eq(connections.id, row.id), eq(connections.userId, row.userId), ne(connections.status, "revoked")));
}

/**
 * A sync walked its whole range: `lastSyncAt`, `active`, no error, and its checkpoint removed. A
 * connection that meanwhile became `reauth_required` or `revoked` keeps that status. Leaving
 * `sync_failed` is a status change, recorded in the security chain like entering it.
 */
export async function completeSync(
  db: Db,
  row: ConnectionRow,
  checkpointKey: string,
  at: Date,
  audit: AuditContext,
): Promise<void> {
  const write = db
    .update(connections)
    .set({
      lastSyncAt: at,
      status: "active",
      lastErrorCode: null,
      lastErrorMessage: null,
      syncCheckpoint: withoutCheckpoint(checkpointKey),
      updatedAt: at,
    })
    .where(
      and(eq(connections.id, row.id), eq(connections.userId, row.userId), inArray(connections.status, ["active", "sync_failed"])),
    );
  if (row.status !== "sync_failed") {
    await write;
    return;
  }
  await appendSecurityEvent(
    db,
    { ...audit, action: "provider.sync_recovered", resource: `connection:${row.id}`, subject: row.userId, result: "success" },
    [write],
  );
}

/** The checkpoint column without one range's entry (NULL when none is left). */
function withoutCheckpoint(key: string) {
  const rest = sql`json_remove(coalesce(${connections.syncCheckpoint}, '{}'), ${checkpointPath(key)})`;
  return sql`CASE WHEN ${rest} = '{}' THEN NULL ELSE ${rest} END`;
}

/**
 * `reauth_required`: the provider refused the grant (`invalid_grant`), so only the person can fix
 * it by connecting again. Releases the refresh lease in the same batch, and records
 * `provider.refresh_failed` in the security chain.
 */
export async function markReauthRequired(
  db: Db,
  row: ConnectionRow,
  error: ConnectionError,
  lease: RefreshLease | null,
  audit: AuditContext,
): Promise<void> {
  const write = db
    .update(connections)
    .set({
      status: "reauth_required",
      lastErrorCode: error.code,
      lastErrorMessage: error.message,
      ...(lease ? { refreshLeaseId: null, refreshLeaseUntil: null } : {}),
      updatedAt: new Date(),
    })
    .where(and(eq(connections.id, row.id), eq(connections.userId, row.userId), ne(connections.status, "revoked")));
  await appendSecurityEvent(
    db,
    {
      ...audit,
      action: "provider.refresh_failed",
      resource: `connection:${row.id}`,
      subject: row.userId,
      result: "failure",
    },
    [write],
  );
}

/**
 * `sync_failed`: the queue gave up on a job after every retry; the reason stays on the row. A dead
 * sync's checkpoint goes too: no message will resume that range, and entries must not pile up.
 */
export async function markSyncFailed(
  db: Db,
  row: ConnectionRow,
  error: ConnectionError,
  audit: AuditContext,
  checkpointKey: string | null = null,
): Promise<void> {
  const write = db
    .update(connections)
    .set({
      status: "sync_failed",
      lastErrorCode: error.code,
      lastErrorMessage: error.message.slice(0, 500),
      ...(checkpointKey === null ? {} : { syncCheckpoint: withoutCheckpoint(checkpointKey) }),
      updatedAt: new Date(),
    })
    .where(
      and(eq(connections.id, row.id), eq(connections.userId, row.userId), inArray(connections.status, ["active", "sync_failed"])),
    );
  await appendSecurityEvent(
    db,
    { ...audit, action: "provider.sync_failed", resource: `connection:${row.id}`, subject: row.userId, result: "failure" },
    [write],
  );
}
