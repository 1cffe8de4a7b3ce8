import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { auditContext } from "../../http/audit-context";
import { problemResponses } from "../../http/openapi";
import type { App } from "../../http/types";
import { signingKeys } from "../keys";
import { authOf, requireAuth } from "../middleware";
import { authIpLimit } from "../rate-limits";
import { RefreshRequestSchema, TokenBodySchema } from "../schema";
import { revokeSession } from "../session-management";
import { refreshSession } from "../sessions";

const refresh = createRoute({
  method: "post",
  path: "/v1/auth/refresh",
  operationId: "refreshTokens",
  security: [],
  tags: ["Auth"],
  summary: "Exchange a refresh token for a new access and refresh token (the old one stops working)",
  middleware: [authIpLimit()] as const,
  request: { body: { required: true, content: { "application/json": { schema: RefreshRequestSchema } } } },
  responses: {
    200: { description: "New tokens", content: { "application/json": { schema: TokenBodySchema } } },
    ...problemResponses(400, 401, 415, 429),
  },
});

const logout = createRoute({
  method: "post",
  path: "/v1/auth/logout",
  operationId: "logout",
  tags: ["Auth"],
  summary: "End the current session (its refresh and access tokens stop working)",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth({ scope: ["user", "recovery"] })] as const,
  responses: { 204: { description: "Signed out" }, ...problemResponses(401) },
});

const JwkSchema = z
  .object({
    kid: z.string(),
    kty: z.literal("EC"),
    crv: z.literal("P-256"),
    x: z.string(),
    y: z.string(),
    alg: z.literal("ES256"),
    use: z.literal("sig"),
  })
  .openapi("Jwk");

const jwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  operationId: "getJwks",
  security: [],
  tags: ["Auth"],
  summary: "Public keys that verify Pulse access tokens (current and recently rotated)",
  responses: {
    200: { description: "JSON Web Key Set", content: { "application/json": { schema: z.object({ keys: z.array(JwkSchema) }) } } },
  },
});

export function registerTokenRoutes(app: App): void {
  app.openapi(refresh, async (c) => {
    const { refreshToken } = c.req.valid("json");
    const body = await refreshSession({ db: getDb(c.env.DB), config: c.var.config, env: c.env }, refreshToken, auditContext(c));
    return c.json(body, 200);
  });

  app.openapi(logout, async (c) => {
    const auth = authOf(c);
    if (auth.sessionId) await revokeSession(getDb(c.env.DB), auth.userId, auth.sessionId, auditContext(c));
    return c.body(null, 204);
  });

  app.openapi(jwks, async (c) => {
    const keys = await signingKeys(c.var.config);
    // Public keys only; caches may keep them briefly, shorter than a rotation overlap (15 min).
    c.header("Cache-Control", "public, max-age=300");
    return c.json(keys.jwks, 200);
  });
}
