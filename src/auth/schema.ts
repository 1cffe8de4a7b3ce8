import { z } from "@hono/zod-openapi";

/** Response and request shapes shared by the identity routes (OpenAPI components). */
export const UserSchema = z
  .object({
    id: z.string().openapi({ example: "usr_abcdefghijklmnopqrstuvwxyz" }),
    username: z.string(),
    displayName: z.string(),
    role: z.enum(["patient", "clinician", "researcher", "admin", "auditor"]),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("User");

export const TokenBodySchema = z
  .object({
    user: UserSchema,
    accessToken: z.string().openapi({ description: "ES256 JWT, 15 minutes" }),
    refreshToken: z.string().openapi({ description: "Opaque `id.secret`; rotated on every use" }),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().openapi({ example: 900 }),
    sessionId: z.string(),
  })
  .openapi("Tokens");

export const RefreshRequestSchema = z.strictObject({ refreshToken: z.string().min(1).max(512) }).openapi("RefreshRequest");

export const SessionSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    createdAt: z.string(),
    lastSeenAt: z.string(),
    expiresAt: z.string(),
    userAgent: z.string().nullable(),
    current: z.boolean(),
  })
  .openapi("Session");

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const IdParamSchema = (prefix: string) =>
  z.object({
    id: z
      .string()
      .regex(new RegExp(`^${prefix}_[a-z2-7]{26}$`), `must be a ${prefix}_ id`)
      .openapi({ param: { name: "id", in: "path" } }),
  });
