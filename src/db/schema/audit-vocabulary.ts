import { USER_ROLES } from "./users";

/**
 * The closed vocabularies of an audit event, shared by the zod model (./event.ts) and the D1
 * schema's CHECK constraints. Kept free of other imports so drizzle-kit can load the schema.
 */
export const AUDIT_RESULTS = ["success", "failure", "denied"] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

/** Who can act: a user in one of their roles, a background job, or an unauthenticated caller. */
export const ACTOR_ROLES = [...USER_ROLES, "system", "anonymous"] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

/** SQL list literal for a CHECK constraint; the values are compile-time constants, never input. */
export function sqlList(values: readonly string[]): string {
  return values.map((value) => `'${value}'`).join(", ");
}
