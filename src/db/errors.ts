/**
 * Classifying what the storage bindings throw. D1 and R2 report failures only in the error message,
 * and drizzle may wrap the binding's error in its own (`cause`), so each check looks through that
 * chain.
 */
const MAX_CAUSE_DEPTH = 5;

function* causeChain(error: unknown): Generator<Error> {
  for (let current = error, depth = 0; current instanceof Error && depth < MAX_CAUSE_DEPTH; current = current.cause, depth++) {
    yield current;
  }
}

/** D1 reports constraint violations as "UNIQUE constraint failed: ...". */
export function isConstraintViolation(error: unknown, pattern: RegExp): boolean {
  for (const current of causeChain(error)) {
    if (/constraint failed/i.test(current.message) && pattern.test(current.message)) return true;
  }
  return false;
}

/**
 * The `D1_ERROR`s Cloudflare lists as transient (developers.cloudflare.com/d1/observability/debug-d1,
 * "List of D1_ERRORs"): the database's object restarting or unreachable, a lost connection, a
 * storage timeout that reset the object, an overloaded queue. Not listed on purpose: an isolate
 * memory or CPU limit ("exceeded its memory limit", "exceeded its CPU time limit") is a query of
 * ours that loads or scans too much, and would fail the same way on every retry.
 */
const D1_TRANSIENT =
  /D1 DB reset because its code was updated|storage caused object to be reset|Network connection lost|Cannot resolve D1 DB due to transient issue|D1 DB storage operation exceeded timeout|D1 DB is overloaded/;

/**
 * R2's Workers API ends the message with its error code (developers.cloudflare.com/r2/api/error-codes):
 * 10001 InternalError, 10043 ServiceUnavailable and 10058 TooManyRequests are worth a retry.
 */
const R2_TRANSIENT = /\((?:10001|10043|10058)\)\s*$/;

/**
 * Whether a dependency, not our code, failed in a way that can pass: D1 or R2 unavailable,
 * overloaded or reset, or a Durable Object call the runtime marks `retryable` or `overloaded`
 * (developers.cloudflare.com/durable-objects/best-practices/error-handling). A constraint
 * violation, an SQL error or an exception thrown by our own object's code is none of these: it is
 * a bug or a conflict, and retrying it changes nothing.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  for (const current of causeChain(error)) {
    const flags = current as Error & { retryable?: unknown; overloaded?: unknown };
    if (flags.retryable === true || flags.overloaded === true) return true;
    if (D1_TRANSIENT.test(current.message) || R2_TRANSIENT.test(current.message)) return true;
  }
  return false;
}
