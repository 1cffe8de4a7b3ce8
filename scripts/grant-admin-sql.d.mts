// Types for scripts/grant-admin-sql.mjs, imported by test/worker/admin.test.ts.
export declare const GENESIS_HASH: string;

export interface GrantEvent {
  seq: number;
  at: string;
  actor: string;
  role: "system";
  action: "user.role_change";
  resource: string;
  subject: string;
  reason: string;
  result: "success";
  requestId: null;
  ip: null;
  prevHash: string;
  hash: string;
  /** The per-event salt of the personal fields' commitments, stored in `security_events.salt`. */
  salt: string;
}

export declare function canonicalJson(value: unknown): string;
export declare const USER_ROLES: readonly string[];
export declare const PERSONAL_FIELDS: readonly ["actor", "subject", "resource", "reason", "ip"];
export declare function newSalt(): string;
export declare function commitment(salt: string, field: (typeof PERSONAL_FIELDS)[number], value: string): Promise<string>;
export declare function committedFields<T extends Record<string, unknown>>(event: T, salt: string): Promise<T>;
export declare function hashAuditEvent(
  prevHash: string,
  event: Omit<GrantEvent, "prevHash" | "hash" | "salt" | "role" | "action" | "result"> & {
    role: string;
    action: string;
    result: string;
  },
): Promise<string>;
export declare function sqlString(value: string | null): string;
export declare function lookupStatements(username: string): string[];
export declare function grantRoleSql(input: {
  user: { id: string; role: string };
  tail: { seq: number; hash: string } | null;
  role?: string;
  actor?: string;
  now?: Date;
  salt?: string;
}): Promise<{ statements: string[]; event: GrantEvent }>;
