import { env } from "cloudflare:workers";
import { prepareSession } from "../../../src/auth/sessions";
import { getConfig } from "../../../src/config/config";
import { getDb } from "../../../src/db/client";
import type { SessionKind, UserRole, UserRow } from "../../../src/db/schema";
import { createUser } from "../../../src/users/users";

/**
 * A signed-in user created straight in D1: the user row, a session and its tokens, written as a
 * sign-in would write them. The passkey ceremony that normally precedes this is tested on its own.
 */
export interface SessionUser {
  user: UserRow;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  /** `Authorization: Bearer …` plus a client IP of this user's own, so tests never share a quota. */
  headers: Record<string, string>;
}

const SYSTEM = { actor: "test", role: "system", reason: null, requestId: null, ip: null } as const;

export async function createSessionUser(options: { role?: UserRole; kind?: SessionKind; now?: Date } = {}): Promise<SessionUser> {
  const db = getDb(env.DB);
  const user = await createUser(
    { db },
    { username: `user-${crypto.randomUUID()}`, displayName: "Test User", role: options.role ?? "patient" },
    SYSTEM,
  );
  const { writes, body } = await prepareSession(
    { db, config: getConfig(env) },
    user,
    options.kind ?? "interactive",
    "vitest",
    options.now,
  );
  const [first, ...rest] = writes;
  if (!first) throw new Error("prepareSession returned no writes");
  await db.batch([first, ...rest]);
  return {
    user,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    sessionId: body.sessionId,
    headers: { Authorization: `Bearer ${body.accessToken}`, "CF-Connecting-IP": testIp() },
  };
}

/** A random private IPv4 address: every test gets its own per-IP rate-limit bucket. */
export function testIp(): string {
  const [a = 0, b = 0, c = 0] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}
