import { and, desc, eq, gte, isNull, lt, type SQL } from "drizzle-orm";
import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext, ChainedAuditEvent } from "../audit/event";
import { formatAuditResource } from "../audit/resource";
import { appendSecurityEvent } from "../audit/security-events";
import type { Db } from "../db/client";
import { type SecurityEventRow, securityEvents, users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { decodeCursor, encodeCursor } from "../pagination/cursor";
import { type SecurityAuditQuery, USER_ID, type UserAuditQuery } from "./schema";

/**
 * What an auditor reads (role `auditor`, checked by the routes): the D1 security chain, and one
 * user's HealthStore chain. Both reads leave a trace in the chain they read, written in the same
 * transaction as the read, so nobody can look without it showing.
 */
export interface AuditorContext {
  db: Db;
  stores: DurableObjectNamespace<HealthStore>;
  audit: AuditContext;
}

export interface SecurityEventView extends ChainedAuditEvent {
  salt: string | null;
  erasedAt: string | null;
}

type Page<T> = { items: T[]; nextCursor: string | null };

/**
 * The security chain, newest first. The `audit.read` event and the page are one D1 batch (one
 * transaction), so the page already contains the read that produced it when the filters match it.
 */
export async function readSecurityEvents(ctx: AuditorContext, query: SecurityAuditQuery): Promise<Page<SecurityEventView>> {
  const filters = { subject: query.subject, actor: query.actor, action: query.action, since: query.since, until: query.until };
  const before = decodeCursor(query.cursor, "security-events", ["int"], filters);
  const conditions: (SQL | undefined)[] = [
    before === undefined ? undefined : lt(securityEvents.seq, before[0]),
    query.subject === undefined ? undefined : eq(securityEvents.subject, query.subject),
    query.actor === undefined ? undefined : eq(securityEvents.actor, query.actor),
    query.action === undefined ? undefined : eq(securityEvents.action, query.action),
    // `at` is ISO 8601 UTC with milliseconds (Date#toISOString): text order is time order.
    query.since === undefined ? undefined : gte(securityEvents.at, new Date(query.since).toISOString()),
    query.until === undefined ? undefined : lt(securityEvents.at, new Date(query.until).toISOString()),
  ];
  const read = ctx.db
    .select()
    .from(securityEvents)
    .where(and(...conditions))
    .orderBy(desc(securityEvents.seq))
    .limit(query.limit + 1);
  const resource = formatAuditResource({
    kind: "security_events",
    since: query.since === undefined ? undefined : Date.parse(query.since),
    until: query.until === undefined ? undefined : Date.parse(query.until),
  });
  const { results } = await appendSecurityEvent(
    ctx.db,
    { ...ctx.audit, action: "audit.read", resource, subject: query.subject ?? null, result: "success" },
    [read],
  );
  const rows = (results[0] ?? []) as SecurityEventRow[];
  const items = rows.slice(0, query.limit).map(toView);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor("security-events", [last.seq], filters) : null,
  };
}

/**
 * One user's HealthStore chain, newest first, with the auditor's reason. An id that is not a live
 * user is 404 before any store is touched: addressing a Durable Object by a made-up name would
 * create one.
 */
export async function readUserAuditLog(
  ctx: AuditorContext,
  userId: string,
  query: UserAuditQuery,
  reason: string,
): Promise<Page<ChainedAuditEvent>> {
  if (!USER_ID.test(userId)) throw noSuchUser();
  const [user] = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)))
    .limit(1);
  if (user === undefined) throw noSuchUser();
  return healthStoreFor(ctx.stores, userId).auditedAccessLog(
    {
      limit: query.limit,
      cursor: query.cursor,
      action: query.action,
      since: query.since === undefined ? undefined : Date.parse(query.since),
      until: query.until === undefined ? undefined : Date.parse(query.until),
    },
    { ...ctx.audit, reason: reason.trim(), subject: userId },
  );
}

function noSuchUser(): DomainError {
  return new DomainError("NOT_FOUND", "No such user.");
}

function toView(row: SecurityEventRow): SecurityEventView {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    role: row.role,
    action: row.action,
    resource: row.resource,
    subject: row.subject,
    reason: row.reason,
    result: row.result,
    requestId: row.requestId,
    ip: row.ip,
    prevHash: row.prevHash,
    hash: row.hash,
    salt: row.salt,
    erasedAt: row.erasedAt === null ? null : row.erasedAt.toISOString(),
  };
}
