import type { HealthStore } from "../../durable-objects/health-store";
import type { Period } from "../../durable-objects/health-store/read-schema";
import type { AuditContext } from "../audit/event";
import type { Db } from "../db/client";
import { GRANTEE_ROLES } from "../db/schema";
import type { UserRole } from "../db/schema/users";
import { DomainError } from "../errors/domain-error";
import { METRIC_CATEGORIES, type MetricCategory } from "../observations/metrics";
import { parseAccessReason } from "../sharing/access-reason";
import { type ActiveGrant, grantCategories, grantPeriod, notShared, touchGrant } from "../sharing/grant-access";
import { authorize, type GrantNeed } from "../sharing/patient-reads";

/**
 * Whose data a FHIR request reads, and how much of it: the caller's own (all of it), or a patient
 * who shared with the caller (DESIGN §8), through one active grant: its categories and its period
 * of data, the caller's stated reason (`X-Access-Reason`) recorded with every read. Any other
 * patient id, malformed ones included, is the same 404 as one never shared.
 */
export interface FhirCaller {
  db: Db;
  stores: DurableObjectNamespace<HealthStore>;
  userId: string;
  role: UserRole;
  /** The caller's audit context, without a reason. */
  audit: AuditContext;
  /** The raw X-Access-Reason header. */
  reason: string | undefined;
  now: number;
}

export interface FhirReader {
  /** Whose store is read. */
  userId: string;
  audit: AuditContext;
  /** The categories the reader may see; undefined for the person themself (everything). */
  categories: MetricCategory[] | undefined;
  /** A grant's period of data; undefined for all of it. */
  within: Period | undefined;
  /** The grant read through, noted after the read. */
  grant: ActiveGrant | undefined;
}

/**
 * The reader of `patient` (a user id; undefined for the caller themself). `need` is what the read
 * asks for: a grant must cover every `required` category, else 403 (recorded in the patient's chain
 * when `denied` is given).
 */
export async function fhirReader(caller: FhirCaller, patient: string | undefined, need: GrantNeed = {}): Promise<FhirReader> {
  if (patient === undefined || patient === caller.userId) {
    return { userId: caller.userId, audit: caller.audit, categories: undefined, within: undefined, grant: undefined };
  }
  // A patient cannot hold grants: nobody else's data is theirs to read, whatever the id.
  if (!(GRANTEE_ROLES as readonly UserRole[]).includes(caller.role)) throw notShared();
  const reason = parseAccessReason(caller.reason);
  const audit = { ...caller.audit, reason };
  const grant = await authorize(
    {
      db: caller.db,
      stores: caller.stores,
      granteeId: caller.userId,
      granteeRole: caller.role,
      patientId: patient,
      audit,
      now: caller.now,
    },
    { preferred: METRIC_CATEGORIES, ...need },
  );
  return { userId: patient, audit, categories: grantCategories(grant), within: grantPeriod(grant), grant };
}

/** Notes the grantee's read on their grant (no-op for the person's own reads). */
export async function noteRead(caller: FhirCaller, reader: FhirReader): Promise<void> {
  if (reader.grant !== undefined) await touchGrant(caller.db, reader.grant, caller.now);
}

/** A grantee searching must say whose data: there is no "own data" to default to in a grant. */
export function requirePatientFor(caller: FhirCaller, patient: string | undefined): void {
  if (patient === undefined && (GRANTEE_ROLES as readonly UserRole[]).includes(caller.role)) {
    throw new DomainError("VALIDATION_FAILED", "Name the patient whose data you read.", {
      errors: [{ path: "patient", message: "required for clinicians and researchers: Patient/usr-…" }],
    });
  }
}
