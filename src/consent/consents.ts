import { and, desc, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { CONSENT_DOCUMENTS, type ConsentDocument, consents } from "../db/schema";
import { DomainError } from "../errors/domain-error";

/**
 * Consent records (DESIGN §8): the versions of the terms of service and the privacy notice that
 * are current. They ship with the code, so changing a document is a deploy that bumps its version
 * here; people who accepted an older version are asked again before they can share.
 */
export const CURRENT_CONSENT_VERSIONS: Readonly<Record<ConsentDocument, string>> = {
  terms: "2026-12-01",
  privacy: "2026-12-01",
};

/** Whether `userId` has accepted the current version of every document and withdrawn none of them. */
export async function hasCurrentConsent(db: Db, userId: string): Promise<boolean> {
  const rows = await db
    .select({ document: consents.document, version: consents.version })
    .from(consents)
    .where(and(eq(consents.userId, userId), isNull(consents.withdrawnAt)))
    .orderBy(desc(consents.acceptedAt));
  return CONSENT_DOCUMENTS.every((document) =>
    rows.some((row) => row.document === document && row.version === CURRENT_CONSENT_VERSIONS[document]),
  );
}

/** Throws `CONSENT_REQUIRED` unless `userId` has current, unwithdrawn consent to both documents. */
export async function requireCurrentConsent(db: Db, userId: string, action: string): Promise<void> {
  if (await hasCurrentConsent(db, userId)) return;
  throw new DomainError(
    "CONSENT_REQUIRED",
    `${action} needs the current terms (${CURRENT_CONSENT_VERSIONS.terms}) and privacy notice (${CURRENT_CONSENT_VERSIONS.privacy}) accepted: POST /v1/me/consents.`,
    { extensions: { required: CURRENT_CONSENT_VERSIONS } },
  );
}
