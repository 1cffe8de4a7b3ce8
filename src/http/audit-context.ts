import type { Context } from "hono";
import type { AuditContext } from "../audit/event";
import { clientIp, UNKNOWN_CLIENT } from "../rate-limit/client-ip";
import type { AppEnv } from "./types";

/** Who is acting in this request, for audit events: the authenticated user or `anonymous`. */
export function auditContext(c: Context<AppEnv>, overrides: Partial<AuditContext> = {}): AuditContext {
  const auth = c.get("auth");
  const ip = clientIp(c);
  return {
    actor: auth?.userId ?? "anonymous",
    role: auth?.role ?? "anonymous",
    reason: null,
    requestId: c.get("requestId") ?? null,
    ip: ip === UNKNOWN_CLIENT ? null : ip,
    ...overrides,
  };
}
