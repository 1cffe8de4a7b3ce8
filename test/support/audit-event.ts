import type { ChainedAuditEvent } from "../../src/audit/event";

/** A chained audit event of the patient's own, as the access-log sentences are written from. */
export function auditEvent(action: string, resource: string, result: ChainedAuditEvent["result"] = "success"): ChainedAuditEvent {
  return {
    seq: 1,
    at: "2026-12-07T10:00:00.000Z",
    actor: "usr_me",
    role: "patient",
    action,
    resource,
    subject: "usr_me",
    reason: null,
    result,
    requestId: null,
    ip: null,
    prevHash: "0".repeat(64),
    hash: "1".repeat(64),
  };
}
