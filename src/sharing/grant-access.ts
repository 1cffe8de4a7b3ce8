import { and, eq, isNull, lte, or } from "drizzle-orm";
import type { Period } from "../../durable-objects/health-store/read-schema";
import { hasCurrentConsent } from "../consent/consents";
import type { Db } from "../db/client";
import { idPattern } from "../db/ids";
import { type GrantRow, grants } from "../db/schema";
import type { UserRole } from "../db/schema/users";
import { DomainError } from "../errors/domain-error";
import { METRIC_CATEGORIES, type MetricCategory } from "../observations/metrics";
import { findActiveGrants } from "./grants";

/**
 * Whether a grantee may read a patient's data, and through which grant. Every way of not being
 * shared with (no grant, revoked, expired, consent withdrawn, no such patient, a malformed id)
 * is the same 404, so a grantee learns nothing about ids that were not shared with them.
 */
const USER_ID = idPattern("usr");
/** The store's last instant (read-schema.ts): an open-ended period runs to it. */
const END_OF_TIME = 253_402_300_799_999;
/** `last_accessed_at` is written at most this often per grant, so reads don't each cost a D1 write. */
const TOUCH_INTERVAL_MS = 60_000;

export interface GrantAccessQuery {
  granteeId: string;
  granteeRole: UserRole;
  patientId: string;
  now: number;
}

/**
 * The grants through which the grantee may read the patient now, never empty; throws NOT_FOUND
 * otherwise. Two D1 reads, side by side. A grant is for the role it was issued to: a grantee
 * whose role changed since does not read through it.
 */
export async function activeGrantsFor(db: Db, query: GrantAccessQuery): Promise<GrantRow[]> {
  if (!USER_ID.test(query.patientId)) throw notShared();
  const [active, consented] = await Promise.all([
    findActiveGrants(db, { granteeId: query.granteeId, patientId: query.patientId, now: query.now }),
    hasCurrentConsent(db, query.patientId),
  ]);
  const usable = active.filter((grant) => grant.role === query.granteeRole);
  // Withdrawn consent suspends sharing without revoking: accepting again resumes it.
  if (usable.length === 0 || !consented) throw notShared();
  return usable;
}

export function notShared(): DomainError {
  return new DomainError("NOT_FOUND", "No patient with this id has shared data with you.");
}

export function grantCategories(grant: GrantRow): MetricCategory[] {
  return METRIC_CATEGORIES.filter((category) => grant.categories.includes(category));
}

/** The grant's period of data, or undefined when it has none (all of the patient's data). */
export function grantPeriod(grant: GrantRow): Period | undefined {
  if (grant.dataSince === null && grant.dataUntil === null) return undefined;
  const since = grant.dataSince?.getTime() ?? 0;
  return { since, until: Math.max(since, grant.dataUntil?.getTime() ?? END_OF_TIME) };
}

export type GrantChoice = { grant: GrantRow } | { missing: MetricCategory[]; split: boolean };

/**
 * Among several active grants for the same pair, the one covering every `required` category; of
 * those, the one covering most of `preferred` (what a read without metrics would show), then the
 * widest period. None covering all → the categories no grant covers (or, when each is covered by
 * some grant but none covers all, `split`).
 */
export function chooseGrant(
  active: readonly GrantRow[],
  required: readonly MetricCategory[],
  preferred: readonly MetricCategory[] = [],
): GrantChoice {
  const covering = active.filter((grant) => required.every((category) => grant.categories.includes(category)));
  if (covering.length === 0) {
    const missing = required.filter((category) => !active.some((grant) => grant.categories.includes(category)));
    return missing.length > 0 ? { missing, split: false } : { missing: [...required], split: true };
  }
  const score = (grant: GrantRow) => preferred.filter((category) => grant.categories.includes(category)).length;
  const width = (grant: GrantRow) => {
    const period = grantPeriod(grant);
    return period === undefined ? Number.POSITIVE_INFINITY : period.until - period.since;
  };
  const [best] = [...covering].sort((a, b) => score(b) - score(a) || width(b) - width(a) || a.id.localeCompare(b.id));
  if (best === undefined) throw new Error("unreachable: covering is not empty");
  return { grant: best };
}

export function categoryForbidden(choice: { missing: MetricCategory[]; split: boolean }): DomainError {
  const names = choice.missing.join(", ");
  const detail = choice.split
    ? `No single grant covers all of ${names}: read them in separate requests.`
    : `The patient has not shared the ${names} ${choice.missing.length === 1 ? "category" : "categories"} with you.`;
  return new DomainError("FORBIDDEN", detail, { extensions: { categories: choice.missing } });
}

/**
 * Notes the grantee's read on the grant for the patient's list of grants, at most once a minute:
 * the row read moments ago says whether it is due, and the UPDATE's condition keeps concurrent
 * reads from writing twice.
 */
export async function touchGrant(db: Db, grant: GrantRow, now: number): Promise<void> {
  const last = grant.lastAccessedAt?.getTime();
  if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
  await db
    .update(grants)
    .set({ lastAccessedAt: new Date(now) })
    .where(
      and(
        eq(grants.id, grant.id),
        or(isNull(grants.lastAccessedAt), lte(grants.lastAccessedAt, new Date(now - TOUCH_INTERVAL_MS))),
      ),
    );
}
