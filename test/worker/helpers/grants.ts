import { env } from "cloudflare:workers";
import { getDb } from "../../../src/db/client";
import { newId } from "../../../src/db/ids";
import { type GranteeRole, type GrantRow, grants } from "../../../src/db/schema";

/**
 * A grant written straight into D1, as redeeming an invitation would write it: for tests of the
 * grantee's reads, not of invitations. Instants are epoch ms or Dates.
 */
export interface GrantSeed {
  patientId: string;
  granteeId: string;
  role?: GranteeRole;
  categories: string[];
  expiresAt?: number | Date;
  dataSince?: number | Date | null;
  dataUntil?: number | Date | null;
  revokedAt?: number | Date | null;
}

const DAY_MS = 86_400_000;
const date = (value: number | Date | null | undefined) => (value === null || value === undefined ? null : new Date(value));

export async function insertGrant(seed: GrantSeed): Promise<GrantRow> {
  const [row] = await getDb(env.DB)
    .insert(grants)
    .values({
      id: newId("grt"),
      invitationId: newId("inv"),
      patientId: seed.patientId,
      granteeId: seed.granteeId,
      role: seed.role ?? "clinician",
      categories: seed.categories,
      dataSince: date(seed.dataSince),
      dataUntil: date(seed.dataUntil),
      expiresAt: new Date(seed.expiresAt ?? Date.now() + 30 * DAY_MS),
      createdAt: new Date(),
      revokedAt: date(seed.revokedAt),
    })
    .returning();
  if (row === undefined) throw new Error("insertGrant wrote no row");
  return row;
}
