/**
 * `/v1/me/deletion/*`: deleting the signed-in account, confirmed by a fresh passkey assertion
 * (./request.ts); `DELETE /v1/me` only points there, since a bearer token alone must not delete.
 */
import { createRoute } from "@hono/zod-openapi";
import { authOf, requireAuth } from "../auth/middleware";
import { ceremonyContext } from "../auth/passkeys/context";
import { DomainError } from "../errors/domain-error";
import { problemResponses } from "../http/openapi";
import type { App } from "../http/types";
import { confirmDeletion, startDeletion } from "./request";
import { DeletionAcceptedSchema, DeletionOptionsSchema, DeletionVerifyRequestSchema } from "./schema";

const security = [{ bearerAuth: [] }];

const options = createRoute({
  method: "post",
  path: "/v1/me/deletion/options",
  operationId: "startAccountDeletion",
  tags: ["Account"],
  summary: "Start deleting your account: a passkey assertion request for your passkeys only (5 minutes, single use)",
  security,
  middleware: [requireAuth()] as const,
  responses: {
    200: {
      description: "Request options for navigator.credentials.get()",
      content: { "application/json": { schema: DeletionOptionsSchema } },
    },
    ...problemResponses(401, 403, 409),
  },
});

const verify = createRoute({
  method: "post",
  path: "/v1/me/deletion/verify",
  operationId: "confirmAccountDeletion",
  tags: ["Account"],
  summary: "Confirm the deletion with a passkey assertion: every session and device ends at once, the data is deleted by a job",
  security,
  middleware: [requireAuth()] as const,
  request: { body: { required: true, content: { "application/json": { schema: DeletionVerifyRequestSchema } } } },
  responses: {
    202: { description: "Deletion under way", content: { "application/json": { schema: DeletionAcceptedSchema } } },
    ...problemResponses(400, 401, 403, 415),
  },
});

const deleteMe = createRoute({
  method: "delete",
  path: "/v1/me",
  operationId: "deleteAccount",
  tags: ["Account"],
  summary: "Not by itself: answers 400 pointing to the passkey-confirmed deletion (/v1/me/deletion/options, then /verify)",
  security,
  middleware: [requireAuth()] as const,
  responses: { ...problemResponses(400, 401, 403) },
});

export function registerDeletionRoutes(app: App): void {
  app.openapi(options, async (c) => c.json(await startDeletion(ceremonyContext(c), authOf(c)), 200));

  app.openapi(verify, async (c) => c.json(await confirmDeletion(ceremonyContext(c), authOf(c), c.req.valid("json")), 202));

  app.openapi(deleteMe, () => {
    throw new DomainError(
      "BAD_REQUEST",
      "Deleting an account needs a fresh passkey confirmation: POST /v1/me/deletion/options, then POST /v1/me/deletion/verify with the assertion.",
      { extensions: { optionsUrl: "/v1/me/deletion/options", verifyUrl: "/v1/me/deletion/verify" } },
    );
  });
}
