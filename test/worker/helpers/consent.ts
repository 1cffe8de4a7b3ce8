import { env } from "cloudflare:workers";
import { CURRENT_CONSENT_VERSIONS } from "../../../src/consent/consents";
import { getDb } from "../../../src/db/client";
import { newId } from "../../../src/db/ids";
import { CONSENT_DOCUMENTS, consents } from "../../../src/db/schema";

/**
 * Records that `userId` accepted the current terms and privacy notice, straight in D1, as the
 * consent route would: for tests of features that require consent (sharing) but not about it.
 */
export async function acceptCurrentConsent(userId: string, at: Date = new Date()): Promise<void> {
  const db = getDb(env.DB);
  await db.insert(consents).values(
    CONSENT_DOCUMENTS.map((document) => ({
      id: newId("cns"),
      userId,
      document,
      version: CURRENT_CONSENT_VERSIONS[document],
      acceptedAt: at,
    })),
  );
}
