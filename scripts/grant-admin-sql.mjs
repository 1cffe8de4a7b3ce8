// The SQL behind `npm run admin:grant` (scripts/grant-admin.mjs), kept free of Node APIs so the
// Worker tests can run it against a real D1 and check the audit chain it extends.
//
// Granting the first admin cannot go through the API (only an admin may change roles), so the
// script writes D1 directly, and it writes it the way the Worker would: the role change and its
// `user.role_change` security event together. The event is chained exactly as
// appendSecurityEvent (src/audit/security-events.ts) chains one: a random per-event salt is stored
// with it, and hash = hex(SHA-256(prevHash || canonicalJson(event))) is taken over the event with
// its personal fields (actor, subject, resource, reason, ip) replaced by salted commitments
// (src/audit/commitments.ts), so that deleting the account can erase them and the chain still
// verifies. test/worker/admin.test.ts and test/node/grant-admin-sql.test.ts check both agree.

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

/** hex SHA-256(prevHash ‖ canonicalJson(the event's eleven fields)), as src/audit/chain.ts. */
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
  return toHex(new Uint8Array(digest));
}

export const PERSONAL_FIELDS = ["actor", "subject", "resource", "reason", "ip"];

/** 16 random bytes in hex, as src/audit/commitments.ts `newSalt`. */
export function newSalt() {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

/** `c:` + hex SHA-256(salt ‖ 0x00 ‖ field ‖ 0x00 ‖ value), as src/audit/commitments.ts `commitment`. */
export async function commitment(salt, field, value) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${salt}\u0000${field}\u0000${value}`));
  return `c:${toHex(new Uint8Array(digest))}`;
}

/** The event with its personal fields replaced by their commitments (null stays null). */
export async function committedFields(event, salt) {
  const committed = { ...event };
  for (const field of PERSONAL_FIELDS) {
    if (event[field] !== null) committed[field] = await commitment(salt, field, event[field]);
  }
  return committed;
}

function toHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A SQL string literal: quotes doubled; NUL refused (SQLite would cut the string there). */
export function sqlString(value) {
  if (value === null) return "NULL";
  if (typeof value !== "string" || value.includes("\0")) throw new TypeError("not a SQL-safe string");
  return `'${value.replaceAll("'", "''")}'`;
}

const USER_ID = /^usr_[a-z2-7]{26}$/;
const HASH = /^[0-9a-f]{64}$/;
const SALT = /^[0-9a-f]{32}$/;

/** The roles a user can hold (src/db/schema/users.ts USER_ROLES). */
export const USER_ROLES = ["patient", "clinician", "researcher", "admin", "auditor"];

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
export async function grantRoleSql({
  user,
  tail,
  role = "admin",
  actor = "cli:grant-admin",
  now = new Date(),
  salt = newSalt(),
}) {
  if (!USER_ID.test(user.id)) throw new TypeError("not a user id");
  if (!USER_ROLES.includes(role)) throw new TypeError(`not a role: ${role}`);
  if (!SALT.test(salt)) throw new TypeError("not a salt");
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
  const hash = await hashAuditEvent(previous.hash, await committedFields(draft, salt));
  const event = { ...draft, prevHash: previous.hash, hash, salt };
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
    sqlString(event.salt),
  ];
  const statements = [
    "INSERT INTO security_events (seq, at, actor, role, action, resource, subject, reason, result, request_id, ip, prev_hash, hash, salt) " +
      `VALUES (${values.join(", ")})`,
    `UPDATE users SET role = ${sqlString(role)}, updated_at = ${now.getTime()} ` +
      `WHERE id = ${sqlString(user.id)} AND deleted_at IS NULL AND role = ${sqlString(user.role)} ` +
      `AND EXISTS (SELECT 1 FROM security_events WHERE seq = ${event.seq} AND hash = ${sqlString(event.hash)})`,
  ];
  return { statements, event };
}
