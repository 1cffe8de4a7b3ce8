import { and, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { type GrantRow, grants } from "../db/schema";

/**
 * The grants through which `granteeId` may read `patientId`'s data at `now`: not revoked and not
 * expired (a grant expiring at `now` has expired). Empty means the patient is not shared with
 * them, which every grantee route answers as 404, whatever the reason.
 */
export async function findActiveGrants(
  db: Db,
  query: { granteeId: string; patientId: string; now: number },
): Promise<GrantRow[]> {
  return db
    .select()
    .from(grants)
    .where(
      and(
        eq(grants.granteeId, query.granteeId),
        eq(grants.patientId, query.patientId),
        isNull(grants.revokedAt),
        gt(grants.expiresAt, new Date(query.now)),
      ),
    );
}
