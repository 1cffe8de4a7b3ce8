/**
 * A store serves exactly one user. Stores are addressed by `idFromName(userId)`, so the runtime
 * knows the name (`ctx.id.name`) and the subject of every call must match it; the first audited
 * call also records its subject, which covers an object reached without a name. A mismatch means a
 * caller bug; refusing it keeps one person's data from ever landing in another person's store.
 */
export function claimOwner(sql: SqlStorage, subject: string, boundName: string | undefined): void {
  if (boundName !== undefined && boundName !== subject) throw ownerMismatch();
  const [row] = sql.exec<{ value: string }>("SELECT value FROM store_meta WHERE key = 'owner'").toArray();
  if (row === undefined) {
    sql.exec("INSERT INTO store_meta (key, value) VALUES ('owner', ?)", subject);
    return;
  }
  if (row.value !== subject) throw ownerMismatch();
}

function ownerMismatch(): Error {
  return new Error("HealthStore called for a subject it does not belong to");
}
