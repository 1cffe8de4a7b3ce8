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
}

export declare function canonicalJson(value: unknown): string;
export declare function hashAuditEvent(prevHash: string, event: Omit<GrantEvent, "prevHash" | "hash">): Promise<string>;
export declare function sqlString(value: string | null): string;
export declare function lookupStatements(username: string): string[];
export declare function grantRoleSql(input: {
  user: { id: string; role: string };
  tail: { seq: number; hash: string } | null;
  role?: string;
  actor?: string;
  now?: Date;
}): Promise<{ statements: string[]; event: GrantEvent }>;
