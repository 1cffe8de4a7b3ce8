/**
 * Whether a D1 statement writes, by its SQL verb (./counters.ts): the first keyword past comments,
 * or, after a leading WITH … AS (…) clause, whether a write keyword follows. Plain TypeScript, no
 * Worker types, so Node tests can import it.
 */
const WRITE_VERBS = new Set(["INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"]);

export function isWriteStatement(sql: string): boolean {
  const text = sql.replace(/--[^\n]*\n?|\/\*[\s\S]*?\*\//g, " ").trim();
  const verb = /^[A-Za-z]+/.exec(text)?.[0]?.toUpperCase() ?? "";
  if (verb === "WITH") {
    // A common table expression precedes the real verb: the first write keyword after it decides.
    return /\b(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(text);
  }
  return WRITE_VERBS.has(verb);
}
