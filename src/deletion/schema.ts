import { z } from "@hono/zod-openapi";
import { AuthenticationCeremonySchema, LoginVerifyRequestSchema } from "../auth/passkeys/schema";

/** The confirmation ceremony's options: a WebAuthn assertion request limited to the account's passkeys. */
export const DeletionOptionsSchema = AuthenticationCeremonySchema;

/** `{flowId, response}`: the same shape as a sign-in's verification. */
export const DeletionVerifyRequestSchema = LoginVerifyRequestSchema;

export const DeletionAcceptedSchema = z
  .object({
    status: z.literal("deleting"),
    requestedAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("DeletionAccepted");
