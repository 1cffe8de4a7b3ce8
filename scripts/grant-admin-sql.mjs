// The SQL behind `npm run admin:grant` (scripts/grant-admin.mjs), kept free of Node APIs so the
// Worker tests can run it against a real D1 and check the audit chain it extends.
//
// Granting the first admin cannot go through the API (only an admin may change roles), so the
// script writes D1 directly, and it writes it the way the Worker would: the role change and its
// `user.role_change` security event together. The event's hash is computed here exactly as
// src/audit/chain.ts computes it, hash = hex(SHA-256(prevHash || canonicalJson(event))), with the
// same canonical JSON as src/audit/canonical.ts; test/worker/admin.test.ts checks both agree.

export const GENESIS_HASH = "0".repeat(64);

/** RFC 8785-style canonical JSON, identical to src/audit/canonical.ts. */
export function canonicalJson(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("canonical JSON cannot hold a non-finite number");
    return JSON.stringify(value);
  }
  if (typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
}

export async function hashAuditEvent(prevHash, event) {
  const fields = {
    seq: event.seq,
    at: event.at,
    actor: event.actor,
    role: event.role,
    action: event.action,
    resource: event.resource,
    subject: event.subject,
    reason: event.reason,
    result: event.result,
    requestId: event.requestId,
    ip: event.ip,
  };
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(prevHash + canonicalJson(fields)));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A SQL string literal: quotes doubled; NUL refused (SQLite would cut the string there). */
export function sqlString(value) {
  if (value === null) return "NULL";
  if (typeof value !== "string" || value.includes("\0")) throw new TypeError("not a SQL-safe string");
  return `'${value.replaceAll("'", "''")}'`;
}

const USER_ID = /^usr_[a-z2-7]{26}$/;
const HASH = /^[0-9a-f]{64}$/;

/** Two statements: the live user by username (any letter case) and the tail of the security chain. */
export function lookupStatements(username) {
  return [
    `SELECT id, role FROM users WHERE lower(username) = lower(${sqlString(username)}) AND deleted_at IS NULL`,
    "SELECT seq, hash FROM security_events ORDER BY seq DESC LIMIT 1",
  ];
}

/**
 * The event and the statements that record it and grant the role, to run as one batch (one
 * `wrangler d1 execute --command`, which D1 runs as a single transaction). The event takes seq = tail + 1
 * (the primary key): if the Worker appended meanwhile, the insert fails and nothing is written,
 * and the caller retries with a fresh tail. The UPDATE only applies while that very event exists
 * and the user still has the role the event says they had, so an unaudited change cannot happen.
 */
export async function grantRoleSql({ user, tail, role = "admin", actor = "cli:grant-admin", now = new Date() }) {
  if (!USER_ID.test(user.id)) throw new TypeError("not a user id");
  const previous = tail ?? { seq: 0, hash: GENESIS_HASH };
  if (!Number.isSafeInteger(previous.seq) || previous.seq < 0 || !HASH.test(previous.hash)) throw new TypeError("bad chain tail");
  const draft = {
    seq: previous.seq + 1,
    at: now.toISOString(),
    actor,
    role: "system",
    action: "user.role_change",
    resource: `user:${user.id}`,
    subject: user.id,
    reason: `role ${user.role} -> ${role} (scripts/grant-admin.mjs)`,
    result: "success",
    requestId: null,
    ip: null,
  };
  const event = { ...draft, prevHash: previous.hash, hash: await hashAuditEvent(previous.hash, draft) };
  const values = [
    String(event.seq),
    sqlString(event.at),
    sqlString(event.actor),
    sqlString(event.role),
    sqlString(event.action),
    sqlString(event.resource),
    sqlString(event.subject),
    sqlString(event.reason),
    sqlString(event.result),
    "NULL",
    "NULL",
    sqlString(event.prevHash),
    sqlString(event.hash),
  ];
  const statements = [
    "INSERT INTO security_events (seq, at, actor, role, action, resource, subject, reason, result, request_id, ip, prev_hash, hash) " +
      `VALUES (${values.join(", ")})`,
    `UPDATE users SET role = ${sqlString(role)}, updated_at = ${now.getTime()} ` +
      `WHERE id = ${sqlString(user.id)} AND deleted_at IS NULL AND role = ${sqlString(user.role)} ` +
      `AND EXISTS (SELECT 1 FROM security_events WHERE seq = ${event.seq} AND hash = ${sqlString(event.hash)})`,
  ];
  return { statements, event };
}
