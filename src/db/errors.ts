/**
 * D1 reports constraint violations only in the error message ("UNIQUE constraint failed: ..."),
 * and drizzle may wrap the D1 error in its own (`cause`). Looks through that chain.
 */
export function isConstraintViolation(error: unknown, pattern: RegExp): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (/constraint failed/i.test(current.message) && pattern.test(current.message)) return true;
  }
  return false;
}
