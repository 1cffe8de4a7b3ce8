import type { StoreMigration } from "./migrations";

/**
 * Version 4: the access log filtered by who acted (`GET /v1/me/access-log?actor=`, an auditor's
 * view of one user) reads one actor's events newest first without scanning the whole chain.
 * Frozen like every shipped migration (see migrations.ts).
 */
export const STORE_MIGRATION_V4: StoreMigration = {
  version: 4,
  name: "audit-events-by-actor",
  statements: ["CREATE INDEX audit_events_actor_seq ON audit_events (actor, seq)"],
};
