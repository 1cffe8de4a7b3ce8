import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { issueAccessToken } from "../../../src/auth/access-token";
import { SESSION_SCOPES } from "../../../src/auth/sessions";
import { getConfig } from "../../../src/config/config";
import { SESSION_KINDS, USER_ROLES, type UserRole } from "../../../src/db/schema";
import { isFhirPath } from "../../../src/http/operation-outcome";
import type { App } from "../../../src/http/types";
import { dpopHeaders, generateDeviceKey } from "./dpop";
import { createSessionUser, type SessionUser, testIp } from "./session-user";
import { call } from "./test-app";

/**
 * The security cases every authenticated route must pass (STYLE.md "Tests"): no token, malformed
 * tokens, an expired token, the wrong role or scope, a device credential where only the account
 * may act, and another user's resource. It adds one `describe` block of `it`s:
 *
 *   securityCases({ app, method: "DELETE", path: "/v1/me/devices/dev_…",
 *     foreignPath: async (owner) => `/v1/me/devices/${await createDeviceFor(owner)}` });
 *
 * Every authenticated route has its entry in test/worker/route-security.test.ts, which runs these
 * cases and fails when a route that answers 401 without a token has none.
 *
 * Every case sends a valid request otherwise (the given body), so a refusal can only come from
 * authentication or authorization.
 */
export interface SecurityCaseOptions {
  app: App;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A path the route matches. For routes with ids, any well-formed id will do. */
  path: string;
  /** JSON body sent with every case (a valid one, so validation never answers first). */
  body?: unknown;
  /** Roles the route admits; a user of any other role must get 403. Any role when omitted. */
  requiredRole?: UserRole | readonly UserRole[];
  /**
   * The scope the route requires (`user` by default), or the scopes it accepts any one of; a session
   * with none of them must get 403, and so must a device credential unless `uploads:write` is one.
   */
  scope?: string | readonly string[];
  /**
   * Creates a resource owned by `owner` and returns the path that addresses it. Another user
   * (with an allowed role) must get 404 there — not 403, not the resource — and afterwards the
   * owner's own identical request must still succeed, proving the resource exists untouched.
   */
  foreignPath?: (owner: SessionUser) => Promise<string>;
}

/** The one scope a device credential carries (DESIGN §4). */
const DEVICE_SCOPE = "uploads:write";

export function securityCases(options: SecurityCaseOptions): void {
  const allowed: readonly UserRole[] =
    options.requiredRole === undefined
      ? USER_ROLES
      : typeof options.requiredRole === "string"
        ? [options.requiredRole]
        : options.requiredRole;
  const [allowedRole = "patient"] = allowed;
  const scopes: readonly string[] = typeof options.scope === "string" ? [options.scope] : (options.scope ?? ["user"]);
  const send = (authorization: string | undefined, path = options.path, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { "CF-Connecting-IP": testIp(), ...extra };
    if (authorization !== undefined) headers.Authorization = authorization;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    return call(options.app, path, { method: options.method, headers, ...(body === undefined ? {} : { body }) });
  };

  // Under /v1/fhir the same refusals are OperationOutcomes (src/http/operation-outcome.ts).
  const expectRefusal = isFhirPath(new URL(options.path, "http://localhost").pathname) ? expectOperationOutcome : expectProblem;

  describe(`${options.method} ${options.path}: security cases`, () => {
    it("refuses a request without a token (401 with WWW-Authenticate)", async () => {
      const res = await send(undefined);
      await expectRefusal(res, 401, "UNAUTHENTICATED");
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    });

    it("refuses malformed and tampered tokens (401)", async () => {
      const user = await createSessionUser({ role: allowedRole });
      const [head = "", payload = "", signature = ""] = user.accessToken.split(".");
      const claims = JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
      const forged = btoa(JSON.stringify({ ...claims, role: "admin", sub: "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa" }))
        .replaceAll("+", "-")
        .replaceAll("/", "_")
        .replace(/=+$/, "");
      for (const authorization of [
        "Bearer not-a-jwt",
        "Bearer",
        `Basic ${btoa("user:password")}`,
        `Bearer ${head}.${forged}.${signature}`,
        `Bearer ${head}.${payload}.${signature.slice(0, -4)}AAAA`,
      ]) {
        await expectRefusal(await send(authorization), 401, "UNAUTHENTICATED");
      }
    });

    it("refuses an expired token of a live session (401)", async () => {
      const user = await createSessionUser({ role: allowedRole });
      const twoHoursAgo = Date.now() - 2 * 60 * 60 * 1000;
      const expired = await issueAccessToken(
        getConfig(env),
        { userId: user.user.id, sessionId: user.sessionId, role: user.user.role, scopes: SESSION_SCOPES.interactive },
        twoHoursAgo,
      );
      await expectRefusal(await send(`Bearer ${expired}`), 401, "UNAUTHENTICATED");
    });

    const wrongRole = USER_ROLES.find((role) => !allowed.includes(role));
    if (wrongRole) {
      it(`refuses the ${wrongRole} role (403)`, async () => {
        const user = await createSessionUser({ role: wrongRole });
        await expectRefusal(await send(`Bearer ${user.accessToken}`), 403, "FORBIDDEN");
      });
    }

    const wrongKind = SESSION_KINDS.find((kind) => !SESSION_SCOPES[kind].some((scope) => scopes.includes(scope)));
    if (wrongKind) {
      it(`refuses a ${wrongKind} session, which lacks the ${scopes.join(" or ")} scope (403)`, async () => {
        const user = await createSessionUser({ role: allowedRole, kind: wrongKind });
        await expectRefusal(await send(`Bearer ${user.accessToken}`), 403, "FORBIDDEN");
      });
    }

    if (!scopes.includes(DEVICE_SCOPE)) {
      it(`refuses a device credential, which carries only ${DEVICE_SCOPE} (403)`, async () => {
        const owner = await createSessionUser({ role: allowedRole });
        const key = await generateDeviceKey();
        const enrolled = await call(options.app, "/v1/me/devices", {
          method: "POST",
          headers: { ...owner.headers, "Content-Type": "application/json" },
          body: JSON.stringify({ name: "Phone", publicJwk: key.publicJwk }),
        });
        expect(enrolled.status).toBe(201);
        const { credential } = await enrolled.json<{ credential: string }>();
        const proof = await dpopHeaders(key, credential, options.method, `http://localhost${options.path}`);
        const res = await send(proof.Authorization, options.path, { DPoP: proof.DPoP ?? "" });
        await expectRefusal(res, 403, "FORBIDDEN");
      });
    }

    const { foreignPath } = options;
    if (foreignPath) {
      it("answers 404 for another user's resource, and leaves it to its owner", async () => {
        const owner = await createSessionUser({ role: allowedRole });
        const intruder = await createSessionUser({ role: allowedRole });
        const path = await foreignPath(owner);
        await expectRefusal(await send(`Bearer ${intruder.accessToken}`, path), 404, "NOT_FOUND");
        const own = await send(`Bearer ${owner.accessToken}`, path);
        expect(own.status).toBeGreaterThanOrEqual(200);
        expect(own.status).toBeLessThan(300);
      });
    }
  });
}

/** The FHIR API's refusal: an OperationOutcome whose diagnostics carry Pulse's error code. */
export async function expectOperationOutcome(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/fhir+json; charset=utf-8");
  const body = await res.json<{ resourceType: string; issue: { diagnostics?: string }[] }>();
  expect(body.resourceType).toBe("OperationOutcome");
  expect(body.issue[0]?.diagnostics).toMatch(new RegExp(`^${code};`));
}

export async function expectProblem(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const body = await res.json<{ code: string; status: number }>();
  expect(body).toMatchObject({ status, code });
}
