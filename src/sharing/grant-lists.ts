/**
 * The two sides' lists of grants (DESIGN §8): the patient's (who may read what, until when, and
 * when they last did) and the grantee's (whose data they may read). People are named by their
 * display name and id only, never a username: no answer may reveal whether a username exists.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { type GrantRow, grants, users } from "../db/schema";
import { afterCursor, decodeKeyset, newestFirst, pageOf } from "../pagination/keyset";
import type { GranteeGrantView, PatientGrantView } from "./schema";

export type GrantStatus = PatientGrantView["status"];

/** Revoked wins over expired: the patient's act is the more useful fact. A grant ending at `now` has ended. */
export function grantStatus(row: Pick<GrantRow, "revokedAt" | "expiresAt">, now: number): GrantStatus {
  if (row.revokedAt) return "revoked";
  return row.expiresAt.getTime() > now ? "active" : "expired";
}

function grantFields(row: GrantRow, now: number) {
  return {
    id: row.id,
    categories: row.categories,
    dataSince: row.dataSince?.toISOString() ?? null,
    dataUntil: row.dataUntil?.toISOString() ?? null,
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    status: grantStatus(row, now),
    note: row.note,
  };
}

export function patientGrantView(row: GrantRow, grantee: { displayName: string }, now: number): PatientGrantView {
  return {
    ...grantFields(row, now),
    grantee: { id: row.granteeId, displayName: grantee.displayName, role: row.role },
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastAccessedAt: row.lastAccessedAt?.toISOString() ?? null,
  };
}

export function granteeGrantView(row: GrantRow, patient: { displayName: string }, now: number): GranteeGrantView {
  return {
    ...grantFields(row, now),
    patient: { id: row.patientId, displayName: patient.displayName },
    role: row.role,
  };
}

interface Page {
  limit: number;
  cursor?: string | undefined;
}

/** Every grant the patient gave, newest first, whatever its status. */
export async function listPatientGrants(
  ctx: { db: Db },
  patientId: string,
  page: Page,
  now = new Date(),
): Promise<{ items: PatientGrantView[]; nextCursor: string | null }> {
  const binding = { list: "patient-grants" };
  const after = decodeKeyset(page.cursor, binding);
  const rows = await ctx.db
    .select({ grant: grants, displayName: users.displayName })
    .from(grants)
    .innerJoin(users, eq(users.id, grants.granteeId))
    .where(and(eq(grants.patientId, patientId), afterCursor(grants, after)))
    .orderBy(...newestFirst(grants))
    .limit(page.limit + 1);
  const { rows: items, nextCursor } = pageOf(
    rows.map((row) => ({ ...row, createdAt: row.grant.createdAt, id: row.grant.id })),
    page.limit,
    binding,
  );
  return { items: items.map((row) => patientGrantView(row.grant, row, now.getTime())), nextCursor };
}

/**
 * The grants given to `granteeId`, newest first: the active ones, or with `status: "all"` also the
 * revoked and expired ones (their history). Patients whose account is deleted are left out.
 */
export async function listGranteeGrants(
  ctx: { db: Db },
  granteeId: string,
  page: Page & { status: "active" | "all" },
  now = new Date(),
): Promise<{ items: GranteeGrantView[]; nextCursor: string | null }> {
  const binding = { list: "grantee-grants", filters: { status: page.status } };
  const after = decodeKeyset(page.cursor, binding);
  const active = page.status === "active" ? and(isNull(grants.revokedAt), gt(grants.expiresAt, now)) : undefined;
  const rows = await ctx.db
    .select({ grant: grants, displayName: users.displayName })
    .from(grants)
    .innerJoin(users, eq(users.id, grants.patientId))
    .where(and(eq(grants.granteeId, granteeId), isNull(users.deletedAt), active, afterCursor(grants, after)))
    .orderBy(...newestFirst(grants))
    .limit(page.limit + 1);
  const { rows: items, nextCursor } = pageOf(
    rows.map((row) => ({ ...row, createdAt: row.grant.createdAt, id: row.grant.id })),
    page.limit,
    binding,
  );
  return { items: items.map((row) => granteeGrantView(row.grant, row, now.getTime())), nextCursor };
}
