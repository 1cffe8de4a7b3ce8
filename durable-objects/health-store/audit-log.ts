import type { ChainAnchor } from "../../src/audit/chain";
import { GENESIS_ANCHOR } from "../../src/audit/chain";
import { ACTOR_ROLES, AUDIT_RESULTS, type AuditResult, type ChainedAuditEvent } from "../../src/audit/event";
import { decodeCursor, encodeCursor } from "../../src/pagination/cursor";
import type { Page, ParsedAccessLogQuery } from "./schema";

/**
 * The per-user audit chain in the HealthStore's SQLite (DESIGN §8). Synchronous on purpose: these
 * run inside `transactionSync` next to the read or write they record.
 */
type AuditRow = {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  resource: string;
  subject: string | null;
  reason: string | null;
  result: string;
  request_id: string | null;
  ip: string | null;
  prev_hash: string;
  hash: string;
};

export function readAuditTail(sql: SqlStorage): ChainAnchor {
  const [row] = sql.exec<{ seq: number; hash: string }>("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").toArray();
  return row ?? GENESIS_ANCHOR;
}

export function insertAuditEvent(sql: SqlStorage, event: ChainedAuditEvent): void {
  sql.exec(
    `INSERT INTO audit_events (seq, at, actor, role, action, resource, subject, reason, result, request_id, ip, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    event.seq,
    event.at,
    event.actor,
    event.role,
    event.action,
    event.resource,
    event.subject,
    event.reason,
    event.result,
    event.requestId,
    event.ip,
    event.prevHash,
    event.hash,
  );
}

/**
 * The access log: newest first, a page at a time, filtered in SQL. The cursor is the seq of the
 * last item, bound to the filters: one from another filter set would skip or repeat events.
 */
export function listAccessLog(sql: SqlStorage, query: ParsedAccessLogQuery): Page<ChainedAuditEvent> {
  const filters = {
    actor: query.actor,
    excludeActor: query.excludeActor,
    role: query.role,
    action: query.action,
    since: query.since,
    until: query.until,
  };
  const before = decodeCursor(query.cursor, "access-log", ["int"], filters);
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (clause: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  add("seq < ?", before?.[0]);
  add("actor = ?", query.actor);
  add("actor <> ?", query.excludeActor);
  add("role = ?", query.role);
  add("action = ?", query.action);
  // `at` is ISO 8601 with milliseconds in UTC (Date#toISOString), so text order is time order.
  add("at >= ?", query.since === undefined ? undefined : new Date(query.since).toISOString());
  add("at < ?", query.until === undefined ? undefined : new Date(query.until).toISOString());
  const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
  const rows = sql
    .exec<AuditRow>(`SELECT * FROM audit_events ${clause} ORDER BY seq DESC LIMIT ?`, ...params, query.limit + 1)
    .toArray();
  const items = rows.slice(0, query.limit).map(toEvent);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor("access-log", [last.seq], filters) : null,
  };
}

/** Oldest first, strictly after `afterSeq`: the order verification walks. */
export function listAuditEventsInOrder(sql: SqlStorage, page: { afterSeq: number; limit: number }): ChainedAuditEvent[] {
  return sql
    .exec<AuditRow>("SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?", page.afterSeq, page.limit)
    .toArray()
    .map(toEvent);
}

function toEvent(row: AuditRow): ChainedAuditEvent {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    role: oneOf(ACTOR_ROLES, row.role),
    action: row.action,
    resource: row.resource,
    subject: row.subject,
    reason: row.reason,
    result: oneOf<AuditResult>(AUDIT_RESULTS, row.result),
    requestId: row.request_id,
    ip: row.ip,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The table's CHECK constraints guarantee the value; this narrows the type without a cast. */
function oneOf<T extends string>(allowed: readonly T[], value: string): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new Error("audit_events row violates its CHECK constraint");
  return found;
}
