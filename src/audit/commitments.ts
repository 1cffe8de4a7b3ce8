/**
 * Salted commitments of a security event's personal fields, so an account's trail can be erased
 * without breaking the D1 chain (DESIGN §8: the chain keeps a pseudonymous record and still verifies).
 *
 * A new event gets a random per-event salt, and its hash covers, instead of the raw actor, subject,
 * resource, reason and ip, their commitments `c:` + hex SHA-256(salt ‖ 0x00 ‖ field ‖ 0x00 ‖ value)
 * (null stays null). The raw values and the salt are stored beside the hash, so a verifier
 * recomputes the commitments. Erasure replaces the stored values by their commitments and drops the
 * salt: the hash input is unchanged, the chain still verifies, and without the salt nobody can test
 * a guessed value (a user id or an IP address) against a commitment.
 */
import { hashAuditEvent } from "./chain";
import type { AuditEvent, ChainedAuditEvent } from "./event";

export const PERSONAL_FIELDS = ["actor", "subject", "resource", "reason", "ip"] as const;
export type PersonalField = (typeof PERSONAL_FIELDS)[number];

const SALT_BYTES = 16;

export function newSalt(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(SALT_BYTES)));
}

export async function commitment(salt: string, field: PersonalField, value: string): Promise<string> {
  const input = new TextEncoder().encode(`${salt}\u0000${field}\u0000${value}`);
  return `c:${toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", input)))}`;
}

/** The event with its personal fields replaced by their commitments under `salt`. */
export async function committedFields<T extends AuditEvent>(event: T, salt: string): Promise<T> {
  const commit = async (field: PersonalField, value: string | null) => (value === null ? null : commitment(salt, field, value));
  return {
    ...event,
    actor: await commitment(salt, "actor", event.actor),
    subject: await commit("subject", event.subject),
    resource: await commitment(salt, "resource", event.resource),
    reason: await commit("reason", event.reason),
    ip: await commit("ip", event.ip),
  };
}

/** A security event as stored: intact (salted), erased, or written before commitments existed. */
export interface StoredSecurityEvent extends ChainedAuditEvent {
  salt: string | null;
  erasedAt: Date | null;
}

/**
 * The hash a stored security event must have: over recomputed commitments while it is intact, over
 * the commitments it now holds once erased, over its plain fields for legacy rows (neither).
 */
export async function securityEventHash(event: StoredSecurityEvent): Promise<string> {
  if (event.salt !== null && event.erasedAt === null)
    return hashAuditEvent(event.prevHash, await committedFields(event, event.salt));
  return hashAuditEvent(event.prevHash, event);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
