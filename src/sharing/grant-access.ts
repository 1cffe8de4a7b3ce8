import { and, eq, isNull, lte, or, sql } from "drizzle-orm";
import type { Period } from "../../durable-objects/health-store/read-schema";
import { EPOCH_MS_MAX } from "../../durable-objects/health-store/schema";
import { CURRENT_CONSENT_VERSIONS } from "../consent/consents";
import type { Db } from "../db/client";
import { idPattern } from "../db/ids";
import { CONSENT_DOCUMENTS, grants } from "../db/schema";
import type { UserRole } from "../db/schema/users";
import { DomainError } from "../errors/domain-error";
import { METRIC_CATEGORIES, type MetricCategory } from "../observations/metrics";

/**
 * Whether a grantee may read a patient's data, and through which grant. Every way of not being
 * shared with (no grant, revoked, expired, consent withdrawn, no such patient or one whose
 * account's deletion was confirmed, a malformed id)
 * is the same 404, so a grantee learns nothing about ids that were not shared with them.
 */
const USER_ID = idPattern("usr");
/** `last_accessed_at` is written at most this often per grant, so reads don't each cost a D1 write. */
const TOUCH_INTERVAL_MS = 60_000;

export interface GrantAccessQuery {
  granteeId: string;
  granteeRole: UserRole;
  patientId: string;
  now: number;
}

/** What a read needs of an active grant. Instants are epoch ms. */
export interface ActiveGrant {
  id: string;
  categories: string[];
  dataSince: number | null;
  dataUntil: number | null;
  lastAccessedAt: number | null;
}

type ActiveGrantRow = Omit<ActiveGrant, "categories"> & { categories: string; consented: number };

/** The patient's consent records that count: the current version of each document, not withdrawn. */
const CURRENT_CONSENTS = JSON.stringify(CONSENT_DOCUMENTS.map((document) => `${document}:${CURRENT_CONSENT_VERSIONS[document]}`));

/**
 * The grants through which the grantee may read the patient now, never empty; throws NOT_FOUND
 * otherwise. A grant is for the role it was issued to: a grantee whose role changed since does not
 * read through it. One D1 statement, on every read (a revocation or a withdrawn consent applies
 * to the very next request): the grant's own conditions and those of
 * `hasCurrentConsent` (src/consent/consents.ts) side by side, as a round trip each would be most
 * of what a grantee's read costs beyond the patient's own.
 */
export async function activeGrantsFor(db: Db, query: GrantAccessQuery): Promise<ActiveGrant[]> {
  if (!USER_ID.test(query.patientId)) throw notShared();
  const rows = await db.all<ActiveGrantRow>(sql`
    SELECT g.id AS id, g.categories AS categories, g.data_since AS dataSince, g.data_until AS dataUntil,
      g.last_accessed_at AS lastAccessedAt,
      (SELECT COUNT(DISTINCT c.document) FROM consents c
        WHERE c.user_id = g.patient_id AND c.withdrawn_at IS NULL
          AND c.document || ':' || c.version IN (SELECT value FROM json_each(${CURRENT_CONSENTS}))) AS consented
    FROM grants g
    WHERE g.grantee_id = ${query.granteeId} AND g.patient_id = ${query.patientId} AND g.role = ${query.granteeRole}
      AND g.revoked_at IS NULL AND g.expires_at > ${query.now}
      -- An account whose deletion was confirmed shares nothing from that instant, though the job
      -- that deletes its grants may run much later (or be retried for hours).
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = g.patient_id AND u.deleted_at IS NULL)`);
  // Withdrawn consent suspends sharing without revoking: accepting again resumes it.
  const usable = rows.filter((row) => row.consented === CONSENT_DOCUMENTS.length);
  if (usable.length === 0) throw notShared();
  return usable.map(({ consented: _consented, ...row }) => ({ ...row, categories: parseCategories(row.categories) }));
}

function parseCategories(json: string): string[] {
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === "string") : [];
}

export function notShared(): DomainError {
  return new DomainError("NOT_FOUND", "No patient with this id has shared data with you.");
}

export function grantCategories(grant: ActiveGrant): MetricCategory[] {
  return METRIC_CATEGORIES.filter((category) => grant.categories.includes(category));
}

/** The grant's period of data, or undefined when it has none (all of the patient's data). */
export function grantPeriod(grant: ActiveGrant): Period | undefined {
  if (grant.dataSince === null && grant.dataUntil === null) return undefined;
  const since = grant.dataSince ?? 0;
  return { since, until: Math.max(since, grant.dataUntil ?? EPOCH_MS_MAX) };
}

export type GrantChoice = { grant: ActiveGrant } | { missing: MetricCategory[]; split: boolean };

/**
 * Among several active grants for the same pair, the one covering every `required` category; of
 * those, the one covering most of `preferred` (what a read without metrics would show), then the
 * widest period. None covering all → the categories no grant covers (or, when each is covered by
 * some grant but none covers all, `split`).
 */
export function chooseGrant(
  active: readonly ActiveGrant[],
  required: readonly MetricCategory[],
  preferred: readonly MetricCategory[] = [],
): GrantChoice {
  const covering = active.filter((grant) => required.every((category) => grant.categories.includes(category)));
  if (covering.length === 0) {
    const missing = required.filter((category) => !active.some((grant) => grant.categories.includes(category)));
    return missing.length > 0 ? { missing, split: false } : { missing: [...required], split: true };
  }
  const score = (grant: ActiveGrant) => preferred.filter((category) => grant.categories.includes(category)).length;
  const width = (grant: ActiveGrant) => {
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
export async function touchGrant(db: Db, grant: ActiveGrant, now: number): Promise<void> {
  const last = grant.lastAccessedAt;
  if (last !== null && now - last < TOUCH_INTERVAL_MS) return;
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
