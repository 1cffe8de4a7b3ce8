/**
 * A person's consent records (DESIGN §8): which version of the terms and of the privacy notice
 * they accepted, when, and when they withdrew. `./consents.ts` answers "may this person share
 * now?"; this module writes the records and reads them back for `/v1/me/consents`.
 *
 * Every change is a security event in the D1 chain (`consent.accept`, `consent.withdraw`), written
 * in the same batch as the row it records, so the history of a person's consent can be proven
 * from the chain as well as read from the table.
 *
 * Accepting is idempotent: while an acceptance of the same version is active, accepting again
 * returns it. Two acceptances racing are settled by the partial unique index
 * `consents_active_unique`: the loser's batch (row and event) rolls back and it returns the winner's.
 */
import { and, desc, eq, isNull } from "drizzle-orm";
import type { AuditContext } from "../audit/event";
import { appendSecurityEvent } from "../audit/security-events";
import type { Db } from "../db/client";
import { isConstraintViolation } from "../db/errors";
import { newId } from "../db/ids";
import { type ConsentDocument, type ConsentRow, consents } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { CURRENT_CONSENT_VERSIONS, hasCurrentConsent } from "./consents";
import { legalDocumentPath } from "./legal";

const DOCUMENT_NAMES: Record<ConsentDocument, string> = { terms: "terms of service", privacy: "privacy notice" };

/** Records shown at most; a history longer than this is possible only by toggling on purpose. */
export const MAX_CONSENT_RECORDS = 100;

export interface ConsentRecord {
  id: string;
  document: ConsentDocument;
  version: string;
  acceptedAt: string;
  withdrawnAt: string | null;
}

export interface ConsentStatus {
  current: Record<ConsentDocument, { version: string; url: string }>;
  /** Every current version accepted and none of them withdrawn: what sharing requires. */
  accepted: boolean;
  records: ConsentRecord[];
  /** True when older records exist beyond the `MAX_CONSENT_RECORDS` shown. */
  moreRecords: boolean;
}

export function consentRecord(row: ConsentRow): ConsentRecord {
  return {
    id: row.id,
    document: row.document,
    version: row.version,
    acceptedAt: row.acceptedAt.toISOString(),
    withdrawnAt: row.withdrawnAt?.toISOString() ?? null,
  };
}

export function currentConsentDocuments(): ConsentStatus["current"] {
  return {
    terms: { version: CURRENT_CONSENT_VERSIONS.terms, url: legalDocumentPath("terms") },
    privacy: { version: CURRENT_CONSENT_VERSIONS.privacy, url: legalDocumentPath("privacy") },
  };
}

/** The current documents, whether the user has accepted them, and their records, newest first. */
export async function getConsentStatus(db: Db, userId: string): Promise<ConsentStatus> {
  // Decided from every active row, not only the ones shown: a long history must not hide consent.
  const [rows, accepted] = await Promise.all([
    db
      .select()
      .from(consents)
      .where(eq(consents.userId, userId))
      .orderBy(desc(consents.acceptedAt), desc(consents.id))
      .limit(MAX_CONSENT_RECORDS + 1),
    hasCurrentConsent(db, userId),
  ]);
  const shown = rows.slice(0, MAX_CONSENT_RECORDS);
  return {
    current: currentConsentDocuments(),
    accepted,
    records: shown.map(consentRecord),
    moreRecords: rows.length > MAX_CONSENT_RECORDS,
  };
}

async function findActive(db: Db, userId: string, document: ConsentDocument, version: string): Promise<ConsentRow | undefined> {
  const [row] = await db
    .select()
    .from(consents)
    .where(
      and(
        eq(consents.userId, userId),
        eq(consents.document, document),
        eq(consents.version, version),
        isNull(consents.withdrawnAt),
      ),
    )
    .limit(1);
  return row;
}

/**
 * Accepts `version` of `document` for `userId`. Only the current version can be accepted (an old
 * page left open in a browser must not record consent to text that no longer applies): any other
 * is a CONFLICT naming the current one. `created` is false when an active acceptance of the same
 * version already existed and is returned unchanged.
 */
export async function acceptConsent(
  db: Db,
  userId: string,
  input: { document: ConsentDocument; version: string },
  audit: AuditContext,
  now = new Date(),
): Promise<{ record: ConsentRecord; created: boolean }> {
  const current = CURRENT_CONSENT_VERSIONS[input.document];
  if (input.version !== current) {
    throw new DomainError(
      "CONFLICT",
      `Version ${input.version} of the ${DOCUMENT_NAMES[input.document]} is not the current one; the current version is ${current}.`,
      { extensions: { document: input.document, currentVersion: current } },
    );
  }
  const existing = await findActive(db, userId, input.document, current);
  if (existing) return { record: consentRecord(existing), created: false };

  const row: ConsentRow = {
    id: newId("cns"),
    userId,
    document: input.document,
    version: current,
    acceptedAt: now,
    withdrawnAt: null,
  };
  try {
    await appendSecurityEvent(
      db,
      { ...audit, action: "consent.accept", resource: `consent:${row.id}`, subject: userId, result: "success" },
      [db.insert(consents).values(row)],
    );
  } catch (error) {
    if (!isConstraintViolation(error, /consents\./)) throw error;
    const winner = await findActive(db, userId, input.document, current);
    if (!winner) throw new DomainError("CONFLICT", "Consent was accepted and withdrawn at once; try again.", { cause: error });
    return { record: consentRecord(winner), created: false };
  }
  return { record: consentRecord(row), created: true };
}

/**
 * Withdraws every active acceptance of `document` (whatever its version). Withdrawing what is not
 * accepted changes nothing and records nothing; either way the answer is the resulting status, so
 * a client that retries sees the same outcome.
 */
export async function withdrawConsent(
  db: Db,
  userId: string,
  document: ConsentDocument,
  audit: AuditContext,
  now = new Date(),
): Promise<{ withdrawn: ConsentRecord[] }> {
  const whereActive = and(eq(consents.userId, userId), eq(consents.document, document), isNull(consents.withdrawnAt));
  const active = await db.select({ id: consents.id }).from(consents).where(whereActive);
  if (active.length === 0) return { withdrawn: [] };
  const { results } = await appendSecurityEvent(
    db,
    {
      ...audit,
      action: "consent.withdraw",
      resource: active.map((row) => `consent:${row.id}`).join(","),
      subject: userId,
      result: "success",
    },
    [db.update(consents).set({ withdrawnAt: now }).where(whereActive).returning()],
  );
  const rows = (results[0] ?? []) as ConsentRow[];
  return { withdrawn: rows.map(consentRecord) };
}
