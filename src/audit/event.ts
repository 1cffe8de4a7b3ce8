import { z } from "zod";
import { ACTOR_ROLES, type ActorRole, type AuditResult } from "../db/schema/audit-vocabulary";

/**
 * The one audit event model (DESIGN §8), used by the D1 security chain and by every user's
 * HealthStore chain. Field names are part of the hash input (src/audit/canonical.ts), so renaming
 * one breaks verification of every stored chain: add fields only with a new chain format version.
 */
export { ACTOR_ROLES, type ActorRole, AUDIT_RESULTS, type AuditResult } from "../db/schema/audit-vocabulary";

/** `{entity}.{verb}`, e.g. `user.create`, `observations.read`, `session.revoke_all`. */
export const auditActionSchema = z.string().regex(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, "action must be {entity}.{verb}");

const shortText = (max: number) => z.string().min(1).max(max);

/** Who acts, why, and from which request: what the Worker knows after authentication. */
export const auditContextSchema = z.strictObject({
  actor: shortText(128),
  role: z.enum(ACTOR_ROLES),
  reason: shortText(500).nullable(),
  requestId: shortText(128).nullable(),
  ip: shortText(64).nullable(),
});
export type AuditContext = z.infer<typeof auditContextSchema>;

export interface AuditEvent {
  /** Position in its chain, from 1, without gaps. */
  seq: number;
  /** ISO 8601 UTC instant with milliseconds (`Date#toISOString`). */
  at: string;
  actor: string;
  role: ActorRole;
  action: string;
  resource: string;
  /** The user whose data or account the event is about; null when there is none. */
  subject: string | null;
  reason: string | null;
  result: AuditResult;
  requestId: string | null;
  ip: string | null;
}

/** An event as stored: with the hash of its predecessor and its own. */
export interface ChainedAuditEvent extends AuditEvent {
  prevHash: string;
  hash: string;
}

/** What an appender is given; it assigns `seq` and `at` itself. */
export type AuditDraft = AuditContext & Pick<AuditEvent, "action" | "resource" | "subject" | "result">;

/** Exactly the hashed fields, in a fresh object: storage columns or extra properties never leak in. */
export function auditEventFields(event: AuditEvent): AuditEvent {
  return {
    seq: event.seq,
    at: event.at,
    actor: event.actor,
    role: event.role,
    action: event.action,
    resource: event.resource,
    subject: event.subject,
    reason: event.reason,
    result: event.result,
    requestId: event.requestId,
    ip: event.ip,
  };
}
