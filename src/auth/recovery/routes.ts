/** Account recovery (`/v1/auth/recover`) and replacing recovery codes (`/v1/me/recovery-codes`). */
import { createRoute, z } from "@hono/zod-openapi";
import { problemResponses } from "../../http/openapi";
import type { App } from "../../http/types";
import { authOf, requireAuth } from "../middleware";
import { ceremonyContext } from "../passkeys/context";
import { authIpLimit } from "../rate-limits";
import { TokenBodySchema } from "../schema";
import { recoverAccount, regenerateRecoveryCodes } from "./recover";

const RecoverRequestSchema = z
  .strictObject({
    username: z.string().trim().min(1).max(64),
    code: z.string().min(1).max(64).openapi({ example: "abcde-fghij-klmno-pqrst" }),
  })
  .openapi("RecoverRequest");

const RecoveryCodesSchema = z
  .object({ recoveryCodes: z.array(z.string()).openapi({ description: "10 single-use codes, shown only this once" }) })
  .openapi("RecoveryCodes");

const recover = createRoute({
  method: "post",
  path: "/v1/auth/recover",
  operationId: "recoverAccount",
  security: [],
  tags: ["Auth"],
  summary: "Use a recovery code: a 15-minute session that may only add a passkey",
  middleware: [authIpLimit()] as const,
  request: { body: { required: true, content: { "application/json": { schema: RecoverRequestSchema } } } },
  responses: {
    200: { description: "A recovery session (scope `recovery`)", content: { "application/json": { schema: TokenBodySchema } } },
    ...problemResponses(400, 401, 415, 429),
  },
});

const regenerate = createRoute({
  method: "post",
  path: "/v1/me/recovery-codes",
  operationId: "regenerateRecoveryCodes",
  tags: ["Passkeys"],
  summary: "Replace your recovery codes with 10 new ones (the old ones stop working)",
  description: "Limited to 3 an hour per user (429 with Retry-After); each replacement is an audited security event.",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  responses: {
    201: { description: "The new codes", content: { "application/json": { schema: RecoveryCodesSchema } } },
    ...problemResponses(401, 403, 429),
  },
});

export function registerRecoveryRoutes(app: App): void {
  app.openapi(recover, async (c) => c.json(await recoverAccount(ceremonyContext(c), c.req.valid("json")), 200));

  app.openapi(regenerate, async (c) => {
    const recoveryCodes = await regenerateRecoveryCodes(ceremonyContext(c), authOf(c).userId);
    return c.json({ recoveryCodes }, 201);
  });
}
